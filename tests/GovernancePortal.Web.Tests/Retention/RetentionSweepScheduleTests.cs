using GovernancePortal.Retention;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Retention;

/// <summary>The host schedules the retention sweep (the sweep itself is proven in the library's tests).</summary>
public sealed class RetentionSweepScheduleTests
{
    [Fact]
    public async Task Host_SchedulesTheRetentionSweep_HourlyByDefault()
    {
        var (job, cron) = await ScheduledAsync(null);

        Assert.Equal(Cron.Hourly(), cron);
        Assert.Equal(typeof(RetentionSweepJob), job.Type);
        Assert.Equal(nameof(RetentionSweepJob.RunAsync), job.Method.Name);
    }

    [Fact]
    public async Task Host_SchedulesTheRetentionSweep_AtTheConfiguredCron()
    {
        var (_, cron) = await ScheduledAsync(new Dictionary<string, string?> { ["Retention:SweepCron"] = "*/15 * * * *" });

        Assert.Equal("*/15 * * * *", cron);
    }

    private static async Task<(Job Job, string Cron)> ScheduledAsync(IReadOnlyDictionary<string, string?>? settings)
    {
        // Hangfire keeps its storage in a static, which parallel test hosts overwrite; the schedule is read where the host hands it over.
        var schedules = new RecordedSchedules();
        await using var portal = PortalFactory.For(Engine.Sqlite, settings, testServices: services => services.AddSingleton<IRecurringJobManager>(schedules));
        await portal.InitializeAsync();

        using var client = portal.CreateClient();

        return schedules.Added[RetentionSweepJob.Id];
    }

    private sealed class RecordedSchedules : IRecurringJobManager
    {
        public Dictionary<string, (Job Job, string Cron)> Added { get; } = new(StringComparer.Ordinal);

        public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) =>
            Added[recurringJobId] = (job, cronExpression);

        public void Trigger(string recurringJobId) => throw new NotSupportedException();

        public void RemoveIfExists(string recurringJobId) => Added.Remove(recurringJobId);
    }
}
