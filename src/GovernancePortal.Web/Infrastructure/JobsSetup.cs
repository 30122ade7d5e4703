using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Retention;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;

namespace GovernancePortal.Web.Infrastructure;

/// <summary>
/// Hangfire triggers the library's sweeps; the database decides what they do, so losing the queue
/// loses nothing. Embedded default: in-memory storage. PostgreSQL: Hangfire's own tables there.
/// </summary>
public static class JobsSetup
{
    public const string DashboardPath = "/jobs";

    public static WebApplicationBuilder AddPortalJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire((services, configuration) =>
        {
            var database = services.GetRequiredService<DatabaseOptions>();
            configuration.UseLogProvider(new HangfireLogs(services.GetRequiredService<ILoggerFactory>()))
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (database.Provider == DatabaseProvider.Postgres)
                configuration.UsePostgreSqlStorage(options => options.UseNpgsqlConnection(database.ConnectionString));
            else
                configuration.UseInMemoryStorage();
        });
        builder.Services.AddHangfireServer(options => options.WorkerCount = Math.Max(2, Environment.ProcessorCount));
        return builder;
    }

    public static void MapPortalJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [new AdminOnly()],
            DashboardTitle = "Governance Portal jobs",
            AppPath = "/",
        }).RequireAuthorization(Roles.Admin);
        var schedules = app.Services.GetRequiredService<IRecurringJobManager>();
        schedules.AddOrUpdate<StoredAnswerPurgeJob>(StoredAnswerPurgeJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Hourly());
        schedules.AddOrUpdate<RetentionSweepJob>(RetentionSweepJob.Id, job => job.RunAsync(CancellationToken.None), app.PortalOptions().Retention.SweepCron);
        schedules.AddOrUpdate<CheckpointJob>(CheckpointJob.Id, job => job.RunAsync(CancellationToken.None), app.PortalOptions().Audit.CheckpointCron);
        schedules.AddOrUpdate<AuditVerificationJob>(AuditVerificationJob.Id, job => job.RunAsync(CancellationToken.None), app.PortalOptions().Audit.VerifyCron);
    }

    private sealed class AdminOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
