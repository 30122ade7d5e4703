using GovernancePortal.Data;
using GovernancePortal.Demo;

namespace GovernancePortal.Web.Infrastructure;

public static class PortalStartup
{
    /// <summary>
    /// Loads the settings the portal cannot run without and registers the library. Outside
    /// Development, OpenID Connect and a master key are required; every missing one is named at once.
    /// </summary>
    public static WebApplicationBuilder AddPortalCore(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var development = builder.Environment.IsDevelopment();
        if (!development)
        {
            string[] required = ["Authentication:Oidc:Authority", "Authentication:Oidc:ClientId", "Encryption:MasterKey"];
            var missing = required.Where(key => string.IsNullOrWhiteSpace(configuration[key])).ToList();
            if (missing.Count > 0)
                throw new ConfigurationProblem(
                    $"outside Development the portal needs OpenID Connect sign-in and a master key; set {string.Join(", ", missing)}.");
        }
        var settings = PortalSettings.Load(configuration, builder.Environment.ContentRootPath, embeddedDefaults: development);
        builder.Services.AddPortalCore(settings);
        return builder;
    }

    /// <summary>
    /// Applies the schema, and on the embedded default (Development with SQLite) seeds the demo data once
    /// unless <c>Demo:Seed</c> is false.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        var settings = app.Services.GetRequiredService<PortalSettings>();
        if (app.Environment.IsDevelopment() && settings.Database.Provider == DatabaseProvider.Sqlite
            && app.Configuration.GetValue("Demo:Seed", true)
            && await app.Services.GetRequiredService<DemoData>().SeedAsync())
            app.Logger.LogInformation("Seeded the demo data");
    }

    /// <summary>
    /// Runs the host; a missing setting or an unreachable database ends it with one clear line on
    /// standard error and exit code 1 instead of a stack trace.
    /// </summary>
    public static async Task<int> RunGuardedAsync(Func<Task> run)
    {
        try
        {
            await run();
            return 0;
        }
        catch (ConfigurationProblem problem)
        {
            await Console.Error.WriteLineAsync($"Governance Portal cannot start: {problem.Message}");
        }
        catch (DatabaseUnavailable unavailable)
        {
            await Console.Error.WriteLineAsync($"Governance Portal cannot start: {unavailable.Message}");
        }
        return 1;
    }
}
