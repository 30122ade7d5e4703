using GovernancePortal.Erasure;
using Hangfire;

namespace GovernancePortal.Web.Features.Erasure;

/// <summary>
/// Enqueues the erasure sweep on Hangfire the moment a commit gives it work. A failure to enqueue does not
/// undo what committed: the periodic sweep (<c>Erasure:SweepCron</c>) finds the work in the database.
/// </summary>
public sealed class HangfireErasureQueue(IBackgroundJobClient jobs, ILogger<HangfireErasureQueue> logger) : IErasureQueue
{
    public void SweepSoon()
    {
        try
        {
            jobs.Enqueue<ErasureSweepJob>(job => job.RunAsync(CancellationToken.None));
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not enqueue the erasure sweep; the periodic sweep will do the work");
        }
    }
}
