using Microsoft.Extensions.Logging;

namespace GovernancePortal.Erasure;

/// <summary>
/// Runs the erasure sweep: enqueued by the web host the moment a request needs it (a withdrawal, an erasure
/// request, an upheld objection, a released hold), and on its schedule (<see cref="ErasureOptions.SweepCron"/>)
/// to catch whatever a lost queue or a crashed node missed.
/// </summary>
public sealed class ErasureSweepJob(ErasureSweep sweep, ILogger<ErasureSweepJob> logger)
{
    public const string Id = "erasure-sweep";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var outcomes = await sweep.RunAsync(cancellationToken);
        if (outcomes.Count == 0)
            return;
        logger.LogInformation("Erasure sweep: {Completed} request(s) completed, {Held} waiting for a legal hold, {Deleted} records deleted, {Keys} data keys destroyed",
            outcomes.Count(o => o.Completed), outcomes.Count(o => !o.Completed), outcomes.Sum(o => o.Deleted), outcomes.Sum(o => o.KeysDestroyed));
    }
}
