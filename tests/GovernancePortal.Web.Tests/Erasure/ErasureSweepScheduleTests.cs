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
        var schedules = await ScheduledJobs.OfHostAsync(new Dictionary<string, string?> { ["Erasure:SweepCron"] = "*/5 * * * *" });

        var (job, cron) = schedules[ErasureSweepJob.Id];

        Assert.Equal("*/5 * * * *", cron);
        Assert.Equal(typeof(ErasureSweepJob), job.Type);
        Assert.Equal(nameof(ErasureSweepJob.RunAsync), job.Method.Name);
    }

    [Fact]
    public void Default_SweepsEveryFifteenMinutes() => Assert.Equal("*/15 * * * *", ErasureOptions.Default.SweepCron);
}
