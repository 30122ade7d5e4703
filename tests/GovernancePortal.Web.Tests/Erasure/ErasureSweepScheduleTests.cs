using GovernancePortal.Erasure;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Erasure;

/// <summary>The host schedules the periodic erasure sweep (the sweep itself is proven in the library's tests).</summary>
public sealed class ErasureSweepScheduleTests
{
    [Fact]
    public async Task Host_SchedulesTheErasureSweep_AtTheConfiguredCron()
    {
        var schedules = new RecordedSchedules();
        await using var portal = PortalFactory.For(Engine.Sqlite, new Dictionary<string, string?> { ["Erasure:SweepCron"] = "*/5 * * * *" },
            testServices: services => services.AddSingleton<IRecurringJobManager>(schedules));
        await portal.InitializeAsync();
        using var client = portal.CreateClient();

        var (job, cron) = schedules.Added[ErasureSweepJob.Id];

        Assert.Equal("*/5 * * * *", cron);
        Assert.Equal(typeof(ErasureSweepJob), job.Type);
        Assert.Equal(nameof(ErasureSweepJob.RunAsync), job.Method.Name);
    }

    [Fact]
    public void Default_SweepsEveryFifteenMinutes() => Assert.Equal("*/15 * * * *", ErasureOptions.Default.SweepCron);

    private sealed class RecordedSchedules : IRecurringJobManager
    {
        public Dictionary<string, (Job Job, string Cron)> Added { get; } = new(StringComparer.Ordinal);

        public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) =>
            Added[recurringJobId] = (job, cronExpression);

        public void Trigger(string recurringJobId) => throw new NotSupportedException();

        public void RemoveIfExists(string recurringJobId) => Added.Remove(recurringJobId);
    }
}
