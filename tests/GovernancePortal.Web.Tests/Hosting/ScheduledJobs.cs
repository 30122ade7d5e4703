using GovernancePortal.Testing;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Hosting;

/// <summary>The recurring jobs a host schedules at start-up, with their crons, read where the host hands them to Hangfire.</summary>
public static class ScheduledJobs
{
    public static async Task<Dictionary<string, (Job Job, string Cron)>> OfHostAsync(IReadOnlyDictionary<string, string?>? settings)
    {
        // Hangfire keeps its storage in a static, which parallel test hosts overwrite; the schedule is read where the host hands it over.
        var schedules = new RecordedSchedules();
        await using var portal = PortalFactory.For(Engine.Sqlite, settings, testServices: services => services.AddSingleton<IRecurringJobManager>(schedules));
        await portal.InitializeAsync();
        using var client = portal.CreateClient();
        return schedules.Added;
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
