using GovernancePortal.Erasure;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Grants;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Retention;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Infrastructure;

/// <summary>The host schedules every recurring job, at the Jobs section's crons (the sweeps themselves are proven in the library's tests).</summary>
public sealed class JobSchedulesTests
{
    [Fact]
    public async Task Host_SchedulesEveryJob_AtItsDefault()
    {
        var added = await ScheduledJobs.OfHostAsync(null);

        Assert.Equal(new Dictionary<string, (Type, string)>
        {
            [StoredAnswerPurgeJob.Id] = (typeof(StoredAnswerPurgeJob), Cron.Hourly()),
            [RetentionSweepJob.Id] = (typeof(RetentionSweepJob), Cron.Hourly()),
            [PauseCheckJob.Id] = (typeof(PauseCheckJob), "*/15 * * * *"),
            [GrantExpiryJob.Id] = (typeof(GrantExpiryJob), "*/5 * * * *"),
            [RequestDeadlinesJob.Id] = (typeof(RequestDeadlinesJob), Cron.Hourly()),
            [CheckpointJob.Id] = (typeof(CheckpointJob), Cron.Hourly()),
            [AuditVerificationJob.Id] = (typeof(AuditVerificationJob), "30 3 * * *"),
            // The web tests' host sets a yearly erasure sweep (PortalFactory), so that it never fires mid-test.
            [ErasureSweepJob.Id] = (typeof(ErasureSweepJob), "0 0 1 1 *"),
        }, added.ToDictionary(pair => pair.Key, pair => (pair.Value.Job.Type, pair.Value.Cron)));
        Assert.All(added.Values, scheduled => Assert.Equal("RunAsync", scheduled.Job.Method.Name));
    }

    [Fact]
    public async Task Host_SchedulesEachJob_AtItsConfiguredCron()
    {
        var added = await ScheduledJobs.OfHostAsync(new Dictionary<string, string?>
        {
            ["Jobs:PauseCheckCron"] = "*/2 * * * *",
            ["Jobs:GrantExpiryCron"] = "* * * * *",
            ["Jobs:RequestDeadlinesCron"] = "0 6 * * *",
            ["Jobs:StoredAnswerPurgeCron"] = "30 * * * *",
            ["Retention:SweepCron"] = "*/20 * * * *",
            ["Erasure:SweepCron"] = "*/10 * * * *",
        });

        Assert.Equal("*/2 * * * *", added[PauseCheckJob.Id].Cron);
        Assert.Equal("* * * * *", added[GrantExpiryJob.Id].Cron);
        Assert.Equal("0 6 * * *", added[RequestDeadlinesJob.Id].Cron);
        Assert.Equal("30 * * * *", added[StoredAnswerPurgeJob.Id].Cron);
        Assert.Equal("*/20 * * * *", added[RetentionSweepJob.Id].Cron);
        Assert.Equal("*/10 * * * *", added[ErasureSweepJob.Id].Cron);
    }
}
