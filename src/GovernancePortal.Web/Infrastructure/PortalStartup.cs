using GovernancePortal;
using GovernancePortal.Data;
using GovernancePortal.Demo;

namespace GovernancePortal.Web.Infrastructure;

public static class PortalStartup
{
    /// <summary>
    /// Reads and checks every setting once (<see cref="GovernancePortal.PortalOptions"/>: every problem is named
    /// at once) and registers the library. The other Add and Map calls take their settings from
    /// <see cref="PortalOptions(WebApplicationBuilder)"/>, never from configuration.
    /// </summary>
    public static WebApplicationBuilder AddPortalCore(this WebApplicationBuilder builder)
    {
        var options = GovernancePortal.PortalOptions.ForWebHost(builder.Configuration, builder.Environment.ContentRootPath, builder.Environment.IsDevelopment());
        builder.Host.Properties[typeof(PortalOptions)] = options;
        builder.Services.AddSingleton(options);
        builder.Services.AddPortalCore(options.Settings);
        return builder;
    }

    /// <summary>The settings <see cref="AddPortalCore"/> read, for the wiring that follows it.</summary>
    public static PortalOptions PortalOptions(this WebApplicationBuilder builder) =>
        builder.Host.Properties.TryGetValue(typeof(PortalOptions), out var options)
            ? (PortalOptions)options
            : throw new InvalidOperationException("AddPortalCore reads the settings; call it first.");

    public static PortalOptions PortalOptions(this WebApplication app) => app.Services.GetRequiredService<PortalOptions>();

    /// <summary>
    /// Applies the schema, and on the embedded default (Development with SQLite) seeds the demo data once
    /// unless <c>Demo:Seed</c> is false.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        var options = app.PortalOptions();
        if (app.Environment.IsDevelopment() && options.Database.Provider == DatabaseProvider.Sqlite
            && options.Demo.Seed
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
