using GovernancePortal.Access;
using GovernancePortal.Holds;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Retention;

namespace GovernancePortal.Home;

/// <summary>What needs a privacy officer's attention, in counts; each count links to the page that lists it.</summary>
public sealed record OfficerHomeSummary(
    DeadlineCounts Requests,
    int PauseAlerts,
    int PauseReviews,
    long RetentionOverdueRecords,
    int RetentionOverdueCategories,
    long HoldsToReview,
    IReadOnlyList<JobRun> FailedJobs)
{
    public bool NothingToDo =>
        Requests is { DueSoon: 0, Overdue: 0 } && PauseAlerts == 0 && PauseReviews == 0 && RetentionOverdueRecords == 0 && HoldsToReview == 0 && FailedJobs.Count == 0;
}

/// <summary>
/// The officers' home panel: requests flagged due within 7 days and overdue (<see cref="RequestDeadlines"/>),
/// pauses whose latest check found records received after them and pauses due for review
/// (<see cref="PauseCheck"/>), records past their retention that no hold keeps (<see cref="RetentionQueries"/>),
/// legal holds to review, and jobs whose latest run failed (<see cref="JobRuns"/>).
/// </summary>
public sealed class OfficerHome(RequestDeadlines deadlines, PauseCheck pauses, RetentionQueries retention, JobRuns runs, LegalHolds holds)
{
    /// <summary>The counts for <paramref name="actor"/>, a privacy officer (legal holds are theirs to see).</summary>
    public async Task<OfficerHomeSummary> SummaryAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        var requests = await deadlines.CountsAsync(cancellationToken);
        var checks = await pauses.LatestAsync(int.MaxValue, cancellationToken);
        var compliance = (await retention.RegisterComplianceAsync(cancellationToken)).SelectMany(p => p.Categories).ToList();
        var failed = (await runs.LatestAsync(cancellationToken)).Where(run => run.Failed).ToList();
        return new OfficerHomeSummary(requests,
            checks.Count(c => c.IsAlert), checks.Count(c => c.IsActive && c.ReviewDue),
            compliance.Sum(c => c.Overdue), compliance.Count(c => !c.Compliant),
            (await holds.DueForReviewAsync(actor, cancellationToken)).Count, failed);
    }
}
