using GovernancePortal.Data;
using GovernancePortal.Jobs;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal.Tests.Jobs;

/// <summary>The <c>Jobs</c> section: every schedule in one place, checked at start-up; the retention sweep's earlier setting still counts.</summary>
public sealed class JobsSettingsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gp-jobs-settings-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private PortalOptions Read(params (string Key, string Value)[] settings) =>
        PortalOptions.ForCli(new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)).Append(KeyValuePair.Create("Storage:DataFolder", (string?)_folder))).Build(), _folder);

    [Fact]
    public void Defaults_EveryJobHasASchedule_AndPausesAreReviewedAfter14Days()
    {
        var options = Read();

        Assert.Equal(JobsOptions.Default, options.Jobs);
        Assert.Equal(5, options.Jobs.Schedules.Count);
        Assert.All(options.Jobs.Schedules, s => Assert.True(JobsOptions.LooksLikeCron(s.Cron), s.Setting));
        Assert.Equal(14, options.Pauses.ReviewAfterDays);
        Assert.Equal(options.Jobs.RetentionSweepCron, options.Retention.SweepCron);
    }

    [Fact]
    public void Schedules_AreReadFromTheJobsSection()
    {
        var options = Read(("Jobs:PauseCheckCron", "*/5 * * * *"), ("Jobs:GrantExpiryCron", "0 3 * * *"), ("Jobs:RetentionSweepCron", "30 * * * *"),
            ("Jobs:RequestDeadlinesCron", "0 6 * * 1-5"), ("Jobs:StoredAnswerPurgeCron", "15 */2 * * *"), ("Pauses:ReviewAfterDays", "30"));

        Assert.Equal(new JobsOptions("15 */2 * * *", "30 * * * *", "*/5 * * * *", "0 3 * * *", "0 6 * * 1-5"), options.Jobs);
        Assert.Equal("30 * * * *", options.Retention.SweepCron);
        Assert.Equal(30, options.Pauses.ReviewAfterDays);
    }

    [Fact]
    public void RetentionSweepCron_TheEarlierName_StillSchedulesTheSweep()
    {
        var options = Read(("Retention:SweepCron", "*/15 * * * *"));

        Assert.Equal("*/15 * * * *", options.Jobs.RetentionSweepCron);
        Assert.Equal("*/15 * * * *", options.Retention.SweepCron);
    }

    [Fact]
    public void BothNamesForTheRetentionSchedule_Disagreeing_IsRefused()
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => Read(("Retention:SweepCron", "*/15 * * * *"), ("Jobs:RetentionSweepCron", "0 * * * *")));

        Assert.Contains("Jobs:RetentionSweepCron", problem.Message);
    }

    [Theory]
    [InlineData("Jobs:PauseCheckCron", "every minute")]
    [InlineData("Jobs:GrantExpiryCron", "* * *")]
    [InlineData("Jobs:RequestDeadlinesCron", "0 * * * * * *")]
    [InlineData("Pauses:ReviewAfterDays", "0")]
    public void ABadValue_IsNamedInTheProblem(string key, string value)
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => Read((key, value)));

        Assert.Contains(key, problem.Message);
    }
}
