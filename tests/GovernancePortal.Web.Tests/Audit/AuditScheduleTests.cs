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
        var schedules = await ScheduledJobs.OfHostAsync(null);

        Assert.Equal((typeof(CheckpointJob), "0 * * * *"), (schedules[CheckpointJob.Id].Job.Type, schedules[CheckpointJob.Id].Cron));
        Assert.Equal((typeof(AuditVerificationJob), "30 3 * * *"), (schedules[AuditVerificationJob.Id].Job.Type, schedules[AuditVerificationJob.Id].Cron));
    }

    [Fact]
    public async Task Host_SchedulesThemAtTheConfiguredCrons()
    {
        var schedules = await ScheduledJobs.OfHostAsync(new Dictionary<string, string?> { ["Audit:CheckpointCron"] = "*/10 * * * *", ["Audit:VerifyCron"] = "0 1 * * *" });

        Assert.Equal(("*/10 * * * *", "0 1 * * *"), (schedules[CheckpointJob.Id].Cron, schedules[AuditVerificationJob.Id].Cron));
    }
}
