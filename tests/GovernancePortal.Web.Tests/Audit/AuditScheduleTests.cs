using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>The host schedules the checkpoint and verification jobs (the jobs themselves are proven in the library's tests).</summary>
public sealed class AuditScheduleTests
{
    [Fact]
    public async Task Host_SchedulesCheckpointsHourly_AndVerificationDaily_ByDefault()
    {
        var schedules = await ScheduledAsync(null);

        Assert.Equal((typeof(CheckpointJob), "0 * * * *"), (schedules[CheckpointJob.Id].Job.Type, schedules[CheckpointJob.Id].Cron));
        Assert.Equal((typeof(AuditVerificationJob), "30 3 * * *"), (schedules[AuditVerificationJob.Id].Job.Type, schedules[AuditVerificationJob.Id].Cron));
    }

    [Fact]
    public async Task Host_SchedulesThemAtTheConfiguredCrons()
    {
        var schedules = await ScheduledAsync(new Dictionary<string, string?> { ["Audit:CheckpointCron"] = "*/10 * * * *", ["Audit:VerifyCron"] = "0 1 * * *" });

        Assert.Equal(("*/10 * * * *", "0 1 * * *"), (schedules[CheckpointJob.Id].Cron, schedules[AuditVerificationJob.Id].Cron));
    }

    private static async Task<Dictionary<string, (Job Job, string Cron)>> ScheduledAsync(IReadOnlyDictionary<string, string?>? settings)
    {
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
