namespace GovernancePortal.Erasure;

/// <summary>
/// <c>Erasure:SweepCron</c> (default every 15 minutes, <c>*/15 * * * *</c>): the periodic erasure sweep that
/// catches whatever the job enqueued at the request missed; <c>Erasure:BatchSize</c> (default 1000): records
/// deleted per write transaction.
/// </summary>
public sealed record ErasureOptions(string SweepCron, int BatchSize)
{
    public static readonly ErasureOptions Default = new("*/15 * * * *", 1000);
}
