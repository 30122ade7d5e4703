using Microsoft.Extensions.Logging;

namespace GovernancePortal.Retention;

/// <summary>Runs the retention sweep on its schedule (<see cref="RetentionOptions.SweepCron"/>).</summary>
public sealed class RetentionSweepJob(RetentionSweep sweep, ILogger<RetentionSweepJob> logger)
{
    public const string Id = "retention-sweep";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var run = await sweep.RunAsync(cancellationToken);
        logger.LogInformation("Retention run {RunId} deleted {Deleted} records; legal holds kept {Held}", run.RunId, run.Deleted, run.Held);
    }
}
