using GovernancePortal.Jobs;

namespace GovernancePortal.Requests;

/// <summary>Runs the deadline sweep on its schedule (<see cref="JobsOptions.RequestDeadlinesCron"/>).</summary>
public sealed class RequestDeadlinesJob(RequestDeadlines deadlines, JobRuns runs)
{
    public const string Id = "request-deadlines";

    public Task RunAsync(CancellationToken cancellationToken) =>
        runs.RecordAsync(Id, deadlines.RunAsync, raised => $"{raised.DueSoon} requests flagged due within 7 days, {raised.Overdue} flagged overdue", cancellationToken);
}
