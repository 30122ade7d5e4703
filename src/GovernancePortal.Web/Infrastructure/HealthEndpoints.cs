using GovernancePortal.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GovernancePortal.Web.Infrastructure;

public static class HealthEndpoints
{
    public static WebApplicationBuilder AddPortalHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<DatabaseReadyCheck>("database", tags: ["ready"]);
        return builder;
    }

    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: the database is reachable and migrated.</summary>
    public static void MapPortalHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
    }

    private sealed class DatabaseReadyCheck(SchemaMigrator migrator) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var pending = await migrator.PendingAsync(cancellationToken);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"{pending.Count} schema migration(s) pending");
            }
            catch (Exception exception) when (DatabaseUnavailable.IsUnavailable(exception))
            {
                return HealthCheckResult.Unhealthy("database unreachable");
            }
        }
    }
}
