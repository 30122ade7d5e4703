using System.Data.Common;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Demo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Cli;

/// <summary>
/// The <c>gp</c> command. It reads the web host's configuration: appsettings.json in the working
/// folder, then environment variables (<c>Database__Provider</c>, <c>ConnectionStrings__Portal</c>, …).
/// </summary>
public static class GpCommand
{
    public const string Usage = """
        usage: gp <command>

          migrate                                  apply the schema files of db/<engine>/ (safe to repeat)
          seed-demo                                load the demo programs, users and records (once)
          keys rotate                              re-wrap every data key under the current master key
          help                                     show this text

        Configuration as for the portal: Database__Provider (Sqlite | Postgres), ConnectionStrings__Portal,
        Encryption__MasterKey (required with Postgres). Without them: SQLite and the key file under data/.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, IConfiguration? configuration = null)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            await output.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            configuration ??= new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
                .AddEnvironmentVariables()
                .Build();
            await using var services = BuildServices(configuration);
            return args switch
            {
                ["migrate"] => await Migrate(services, output),
                ["seed-demo"] => await SeedDemo(services, output),
                ["keys", "rotate"] => await RotateKeys(services, output),
                _ => await Unknown(args, error),
            };
        }
        catch (ConfigurationProblem problem)
        {
            await error.WriteLineAsync($"gp: {problem.Message}");
            return 2;
        }
        catch (DatabaseUnavailable unavailable)
        {
            await error.WriteLineAsync($"gp: {unavailable.Message}");
            return 3;
        }
        catch (DbException exception)
        {
            await error.WriteLineAsync($"gp: the database refused the command: {exception.Message}");
            return 3;
        }
    }

    private static ServiceProvider BuildServices(IConfiguration configuration)
    {
        var provider = configuration["Database:Provider"];
        var embedded = string.IsNullOrWhiteSpace(provider) || provider.Equals("Sqlite", StringComparison.OrdinalIgnoreCase);
        var settings = PortalSettings.Load(configuration, Directory.GetCurrentDirectory(), embeddedDefaults: embedded);
        return new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning))
            .AddPortalCore(settings)
            .BuildServiceProvider();
    }

    private static async Task<int> Migrate(IServiceProvider services, TextWriter output)
    {
        var applied = await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await output.WriteLineAsync(applied == 0 ? "schema is up to date" : $"applied {applied} migration(s)");
        return 0;
    }

    private static async Task<int> SeedDemo(IServiceProvider services, TextWriter output)
    {
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        var seeded = await services.GetRequiredService<DemoData>().SeedAsync();
        await output.WriteLineAsync(seeded ? "demo data loaded" : "demo data was already there; nothing changed");
        return 0;
    }

    private static async Task<int> RotateKeys(IServiceProvider services, TextWriter output)
    {
        var ring = services.GetRequiredService<MasterKeyRing>();
        var connections = services.GetRequiredService<ConnectionFactory>();
        if (ring.KeyFile is not null)
        {
            var (rotated, count) = await MasterKeyRotation.RotateKeyFileAsync(connections, ring);
            await output.WriteLineAsync($"new master key {rotated.Current.Id} written to {ring.KeyFile}; re-wrapped {count} data key(s)");
            return 0;
        }
        var rewrapped = await services.GetRequiredService<MasterKeyRotation>().RewrapAllAsync();
        await output.WriteLineAsync($"re-wrapped {rewrapped} data key(s) under master key {ring.Current.Id}");
        if (ring.Retired.Count > 0)
            await output.WriteLineAsync("every data key now uses the current master key: Encryption:RetiredMasterKeys can be removed");
        return 0;
    }

    private static async Task<int> Unknown(string[] args, TextWriter error)
    {
        await error.WriteLineAsync($"gp: unknown command '{string.Join(' ', args)}'");
        await error.WriteLineAsync(Usage);
        return 2;
    }
}
