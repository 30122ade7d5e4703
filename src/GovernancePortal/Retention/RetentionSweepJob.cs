using GovernancePortal.Jobs;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Retention;

/// <summary>Runs the retention sweep on its schedule (<see cref="JobsOptions.RetentionSweepCron"/>).</summary>
public sealed class RetentionSweepJob(RetentionSweep sweep, JobRuns runs, ILogger<RetentionSweepJob> logger)
{
    public const string Id = "retention-sweep";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var run = await runs.RecordAsync(Id, sweep.RunAsync, result => $"run {result.RunId}: {result.Deleted} records deleted, {result.Held} kept by legal holds", cancellationToken);
        logger.LogInformation("Retention run {RunId} deleted {Deleted} records; legal holds kept {Held}", run.RunId, run.Deleted, run.Held);
    }
}
