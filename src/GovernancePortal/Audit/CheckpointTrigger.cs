using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Audit;

/// <summary>
/// How an append asks for a checkpoint without waiting for one: <see cref="AuditLog.AppendAsync"/> calls
/// <see cref="Reached"/> when its event's seq is a multiple of <see cref="AuditOptions.CheckpointEvery"/>, which
/// costs a flag, and <see cref="CheckpointWorker"/> signs in the background. Requests while one is pending merge.
/// </summary>
public sealed class CheckpointTrigger
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Reached() => _requests.Writer.TryWrite(true);

    public async Task WaitAsync(CancellationToken cancellationToken) => await _requests.Reader.ReadAsync(cancellationToken);
}

/// <summary>
/// Signs the checkpoints that appends asked for (<see cref="CheckpointStore.CatchUpAsync"/>), in the web host's
/// background. A request that finds nothing to sign (its transaction rolled back) does nothing; one lost to a
/// crash is caught up by the hourly <see cref="CheckpointJob"/>, which signs by size too.
/// </summary>
public sealed class CheckpointWorker(CheckpointTrigger trigger, CheckpointStore store, ILogger<CheckpointWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await trigger.WaitAsync(stoppingToken);
                foreach (var checkpoint in await store.CatchUpAsync(stoppingToken))
                    logger.LogInformation("Signed audit checkpoint of size {TreeSize} with key {KeyId}", checkpoint.TreeSize, checkpoint.KeyId);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Signing an audit checkpoint failed; the hourly checkpoint job catches up");
            }
        }
    }
}

/// <summary>The hourly checkpoint (<see cref="AuditOptions.CheckpointCron"/>): the regular sizes missed, then the head.</summary>
public sealed class CheckpointJob(CheckpointStore store, ILogger<CheckpointJob> logger)
{
    public const string Id = "audit-checkpoint";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await store.CatchUpAsync(cancellationToken);
        var head = await store.SignNowAsync(cancellationToken);
        logger.LogInformation("Audit checkpoint of size {TreeSize} signed at {Time} with key {KeyId}", head.TreeSize, head.Time, head.KeyId);
    }
}
