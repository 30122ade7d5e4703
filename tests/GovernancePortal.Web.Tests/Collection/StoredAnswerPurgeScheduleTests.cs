using GovernancePortal.Collection;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Collection;

/// <summary>The host schedules the purge of stored Idempotency-Key answers (the purge itself is proven in the library's tests).</summary>
public sealed class StoredAnswerPurgeScheduleTests
{
    [Fact]
    public async Task Host_SchedulesTheStoredAnswersPurge_Hourly()
    {
        // Hangfire keeps its storage in a static, which parallel test hosts overwrite; the schedule is read where the host hands it over.
        var schedules = new RecordedSchedules();
        await using var portal = PortalFactory.For(Engine.Sqlite, testServices: services => services.AddSingleton<IRecurringJobManager>(schedules));
        await portal.InitializeAsync();

        using var client = portal.CreateClient();

        var (job, cron) = schedules.Added[StoredAnswerPurgeJob.Id];
        Assert.Equal(Cron.Hourly(), cron);
        Assert.Equal(typeof(StoredAnswerPurgeJob), job.Type);
        Assert.Equal(nameof(StoredAnswerPurgeJob.RunAsync), job.Method.Name);
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
