using GovernancePortal.Jobs;

namespace GovernancePortal.Grants;

/// <summary>Runs the grant expiry sweep on its schedule (<see cref="JobsOptions.GrantExpiryCron"/>).</summary>
public sealed class GrantExpiryJob(GrantExpiry expiry, JobRuns runs)
{
    public const string Id = "grant-expiry";

    public Task RunAsync(CancellationToken cancellationToken) =>
        runs.RecordAsync(Id, expiry.RunAsync, marked => $"{marked.Count} grants marked ended", cancellationToken);
}
