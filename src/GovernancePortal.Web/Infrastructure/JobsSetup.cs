using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Grants;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Retention;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;

namespace GovernancePortal.Web.Infrastructure;

/// <summary>
/// Hangfire triggers the library's sweeps; the database decides what they do, so losing the queue
/// loses nothing. Embedded default: in-memory storage. PostgreSQL: Hangfire's own tables there.
/// Every recurring job and its schedule (<see cref="JobsOptions"/>) is registered here, in <see cref="Schedule"/>.
/// </summary>
public static class JobsSetup
{
    public const string DashboardPath = "/admin/jobs";

    /// <summary>
    /// A failed run is tried again after 1, 5 and 15 minutes, then shown as failed on the dashboard (and
    /// counted on the officers' home) until the next scheduled run; each sweep starts from the database.
    /// </summary>
    public static readonly AutomaticRetryAttribute Retries = new()
    {
        Attempts = 3,
        DelaysInSeconds = [60, 300, 900],
        OnAttemptsExceeded = AttemptsExceededAction.Fail,
    };

    public static WebApplicationBuilder AddPortalJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire((services, configuration) =>
        {
            var database = services.GetRequiredService<DatabaseOptions>();
            // Hangfire's default retry filter (10 attempts over hours) is replaced by the portal's own.
            GlobalJobFilters.Filters.Remove<AutomaticRetryAttribute>();
            configuration.UseLogProvider(new HangfireLogs(services.GetRequiredService<ILoggerFactory>()))
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseFilter(Retries);
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
        Schedule(app.Services.GetRequiredService<IRecurringJobManager>(), app.PortalOptions().Jobs, app.PortalOptions().Audit);
    }

    /// <summary>Every recurring job of the portal, at its configured schedule (README, "Production configuration", <c>Jobs:…Cron</c>).</summary>
    public static void Schedule(IRecurringJobManager schedules, JobsOptions jobs, AuditOptions audit)
    {
        schedules.AddOrUpdate<StoredAnswerPurgeJob>(StoredAnswerPurgeJob.Id, job => job.RunAsync(CancellationToken.None), jobs.StoredAnswerPurgeCron);
        schedules.AddOrUpdate<RetentionSweepJob>(RetentionSweepJob.Id, job => job.RunAsync(CancellationToken.None), jobs.RetentionSweepCron);
        schedules.AddOrUpdate<PauseCheckJob>(PauseCheckJob.Id, job => job.RunAsync(CancellationToken.None), jobs.PauseCheckCron);
        schedules.AddOrUpdate<GrantExpiryJob>(GrantExpiryJob.Id, job => job.RunAsync(CancellationToken.None), jobs.GrantExpiryCron);
        schedules.AddOrUpdate<RequestDeadlinesJob>(RequestDeadlinesJob.Id, job => job.RunAsync(CancellationToken.None), jobs.RequestDeadlinesCron);
        schedules.AddOrUpdate<CheckpointJob>(CheckpointJob.Id, job => job.RunAsync(CancellationToken.None), audit.CheckpointCron);
        schedules.AddOrUpdate<AuditVerificationJob>(AuditVerificationJob.Id, job => job.RunAsync(CancellationToken.None), audit.VerifyCron);
    }

    private sealed class AdminOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.Admin);
    }
}
