using GovernancePortal.Jobs;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Programs;

/// <summary>Runs the pause check on its schedule (<see cref="JobsOptions.PauseCheckCron"/>).</summary>
public sealed class PauseCheckJob(PauseCheck check, JobRuns runs, ILogger<PauseCheckJob> logger)
{
    public const string Id = "pause-check";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var results = await runs.RecordAsync(Id, check.RunAsync,
            checks => $"{checks.Count} pauses checked, {checks.Count(c => c.IsAlert)} with records received after the pause, {checks.Count(c => c.ReviewDue)} due for review",
            cancellationToken);
        foreach (var alert in results.Where(r => r.IsAlert))
            logger.LogWarning("Pause {PauseId} of program {Program}: {Count} records were received after it committed", alert.PauseId, alert.ProgramKey, alert.LateRecords);
    }
}
