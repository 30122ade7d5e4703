namespace GovernancePortal.Retention;

/// <summary>
/// <c>Jobs:RetentionSweepCron</c> (formerly <c>Retention:SweepCron</c>, still read; default hourly, <c>0 * * * *</c>): when the retention sweep runs, and so how
/// late after its date a record may still exist; <c>Retention:BatchSize</c> (default 5000): records
/// deleted per write transaction.
/// </summary>
public sealed record RetentionOptions(string SweepCron, int BatchSize)
{
    public static readonly RetentionOptions Default = new("0 * * * *", 5000);
}
