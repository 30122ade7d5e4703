using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Logging;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Infrastructure;

/// <summary>Hangfire's log provider is process-wide; a host disposed before another logs must not break the other's jobs.</summary>
public sealed class HangfireLogsTests
{
    [Fact]
    public async Task HangfireLogging_AfterAnotherHostWasDisposed_NeitherThrowsNorStopsScheduling()
    {
        await using var running = PortalFactory.For(Engine.Sqlite);
        await running.InitializeAsync();
        _ = running.Services;
        await using (var other = PortalFactory.For(Engine.Sqlite))
        {
            await other.InitializeAsync();
            // The other host's Hangfire configuration is now the process's, with its logger factory.
            _ = other.Services.GetRequiredService<IGlobalConfiguration>();
        }

        var log = LogProvider.GetLogger(typeof(HangfireLogsTests));
        log.Log(Hangfire.Logging.LogLevel.Info, () => "after the other host was disposed");
        new RecurringJobManager(running.Services.GetRequiredService<JobStorage>())
            .AddOrUpdate("hangfire-logs-test", () => Console.WriteLine(), Cron.Never());
    }
}
