using GovernancePortal.Jobs;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Collection;

/// <summary>Deletes the answers kept for Idempotency-Key retries once they are older than 24 hours.</summary>
public sealed class StoredAnswerPurgeJob(CollectionService collection, JobRuns runs, ILogger<StoredAnswerPurgeJob> logger)
{
    public const string Id = "collection-stored-answers-purge";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var purged = await runs.RecordAsync(Id, collection.PurgeExpiredAnswersAsync, count => $"{count} stored answers deleted", cancellationToken);
        if (purged > 0)
            logger.LogInformation("Purged {Count} stored collection answers older than 24 hours", purged);
    }
}
