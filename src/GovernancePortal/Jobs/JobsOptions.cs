using System.Text.RegularExpressions;

namespace GovernancePortal.Jobs;

/// <summary>
/// <c>Jobs:…Cron</c>: when each recurring job runs, as cron (five fields, or six with seconds first), all
/// in one section. Every job is an idempotent sweep, so a schedule only says how late after the fact its
/// work may be done. <c>Jobs:RetentionSweepCron</c> was <c>Retention:SweepCron</c>, which is still read.
/// </summary>
public sealed partial record JobsOptions(
    string StoredAnswerPurgeCron,
    string RetentionSweepCron,
    string PauseCheckCron,
    string GrantExpiryCron,
    string RequestDeadlinesCron)
{
    public const string Hourly = "0 * * * *";

    public static readonly JobsOptions Default = new(Hourly, Hourly, "*/15 * * * *", "*/5 * * * *", Hourly);

    /// <summary>Each setting's name with its value, in the order of README's table.</summary>
    public IReadOnlyList<(string Setting, string Cron)> Schedules =>
    [
        ("Jobs:StoredAnswerPurgeCron", StoredAnswerPurgeCron),
        ("Jobs:RetentionSweepCron", RetentionSweepCron),
        ("Jobs:PauseCheckCron", PauseCheckCron),
        ("Jobs:GrantExpiryCron", GrantExpiryCron),
        ("Jobs:RequestDeadlinesCron", RequestDeadlinesCron),
    ];

    /// <summary>
    /// Whether <paramref name="cron"/> has the shape of a cron expression: five fields (or six, seconds
    /// first) of digits, names, <c>* , - / ? L W #</c>. Hangfire parses it when the schedule is added.
    /// </summary>
    public static bool LooksLikeCron(string cron)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length is 5 or 6 && fields.All(field => CronField().IsMatch(field));
    }

    [GeneratedRegex(@"^[0-9A-Za-z*,\-/?LW#]+$")]
    private static partial Regex CronField();
}

/// <summary><c>Pauses:ReviewAfterDays</c> (default 14): a pause open longer than this is flagged for review.</summary>
public sealed record PauseOptions(int ReviewAfterDays)
{
    public static readonly PauseOptions Default = new(14);
}
