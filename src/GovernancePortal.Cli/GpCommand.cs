using System.Data.Common;
using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Cli.Bench;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Demo;
using GovernancePortal.Retention;
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
          keys rotate                              re-wrap every data key and signing key under the current master key
          keys rotate-signing                      retire the current signing key (kept to verify what it signed) and make a new one
          keys public [--out <file>]               print the public signing keys (PEM, newest first) for offline verification
          retention sweep                          delete the records past their category's retention now (as the hourly job does)
          erasure sweep                            carry out the erasure requests waiting now (as the erasure job does)
          collector create --program <key> --name <name>
                                                   create a collector and print its token (shown once)
          bench ingest [--records N] [--rounds N] [--engine sqlite|postgres] [--postgres <connection string>]
                                                   measure the collection endpoint against raw inserts and a plain bulk load on a throwaway database,
                                                   then the room the records and their indexes take
          bench mydata [--records N] [--mine N] [--engine sqlite|postgres] [--postgres <connection string>]
                                                   time an employee's own views (/me counts, program chart and first page) on a throwaway database
          bench grant-read [--records N] [--engine sqlite|postgres] [--postgres <connection string>]
                                                   time the first page read under a grant, and its audit writes, on a throwaway database
          bench purge [--records N] [--batch N] [--engine sqlite|postgres] [--postgres <connection string>]
                                                   time the retention sweep, ingestion beside it, and a raw DELETE, on a throwaway database
          bench export [--events N] [--appends N] [--engine sqlite|postgres] [--postgres <connection string>]
                                                   CSV export rate and peak memory, gp audit verify rate and append rates on a throwaway database
          audit proof --seq <m> --size <n> [--out <file>]
                                                   print the root of the log's first n events and event m's inclusion proof
          audit consistency --old-size <m> --new-size <n> [--out <file>]
                                                   print both roots and the proof that the first n events extend the first m
          audit verify <export> --manifest <file> --public-key <pem>
                                                   offline: check an export (every hash, link and seq) and its signed manifest; exit 0 with a summary, 1 naming the first bad seq
          audit verify-proof --leaf <hex event hash> --index <m> --size <n> --root <hex> --proof <file>
                                                   offline: check an inclusion proof (index = seq - 1); exit 0 "ok", 1 naming the failure
          audit verify-consistency --old-size <m> --old-root <hex> --new-size <n> --new-root <hex> --proof <file>
                                                   offline: check a consistency proof; exit 0 "ok", 1 naming the failure
          audit checkpoint [--out <file>]          print (and write) the signed checkpoint of the log's head, signing one if it has none
          audit verify-checkpoint <file> --public-key <pem>
                                                   offline: check a checkpoint's form and signature; exit 0 "ok: ...", 1 naming the failure
          audit verify-proof --leaf <hex event hash> --index <m> --checkpoint <file> --public-key <pem> --proof <file>
                                                   offline: check an inclusion proof against a signed checkpoint
          audit verify-consistency --old <checkpoint> --new <checkpoint> --proof <file> --public-key <pem>
                                                   offline: check that the new signed checkpoint extends the old one
          receipt verify <file> --public-key <pem> offline: check a signed erasure receipt; exit 0 with its summary, 1 naming the failure
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
            if (args is ["bench", .. var benchOptions])
                return await RunBench(benchOptions, output, error);
            if (args is ["audit", "verify", .. var verifyOptions])
                return await AuditCommands.VerifyExportAsync(verifyOptions, output, error);
            if (args is ["audit", "verify-proof", .. var proofOptions])
                return await AuditCommands.VerifyProofAsync(ParseOptions(proofOptions), output, error);
            if (args is ["receipt", "verify", .. var receiptArgs])
                return await ReceiptCommands.VerifyAsync(receiptArgs, output, error);
            if (args is ["audit", "verify-consistency", .. var consistencyOptions])
                return await AuditCommands.VerifyConsistencyAsync(ParseOptions(consistencyOptions), output, error);
            if (args is ["audit", "verify-checkpoint", .. var checkpointArgs])
                return await AuditCommands.VerifyCheckpointAsync(checkpointArgs, output, error);
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
                ["keys", "rotate-signing"] => await RotateSigningKey(services, output),
                ["retention", "sweep"] => await SweepRetention(services, output),
                ["erasure", "sweep"] => await SweepErasure(services, output),
                ["keys", "public", .. var options] => await PublicKeys(services, options, output, error),
                ["collector", "create", .. var options] => await CreateCollector(services, options, output, error),
                ["audit", "proof", .. var options] => await AuditCommands.ProofAsync(services.GetRequiredService<AuditTree>(), ParseOptions(options), output, error),
                ["audit", "consistency", .. var options] => await AuditCommands.ConsistencyAsync(services.GetRequiredService<AuditTree>(), ParseOptions(options), output, error),
                ["audit", "checkpoint", .. var options] => await AuditCommands.CheckpointAsync(services.GetRequiredService<CheckpointStore>(), ParseOptions(options), output, error),
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
        var settings = PortalOptions.ForCli(configuration, Directory.GetCurrentDirectory()).Settings;
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

    private static async Task<int> SweepRetention(IServiceProvider services, TextWriter output)
    {
        var run = await services.GetRequiredService<Retention.RetentionSweep>().RunAsync();
        await output.WriteLineAsync($"retention run {run.RunId}: deleted {run.Deleted} record(s), kept {run.Categories.Sum(c => c.Held)} under a legal hold");
        return 0;
    }

    private static async Task<int> SweepErasure(IServiceProvider services, TextWriter output)
    {
        var outcomes = await services.GetRequiredService<Erasure.ErasureSweep>().RunAsync();
        await output.WriteLineAsync($"erasure sweep: {outcomes.Count(o => o.Completed)} request(s) completed, {outcomes.Count(o => o.HeldBy.Count > 0)} waiting for a legal hold, " +
            $"{outcomes.Sum(o => o.Deleted)} record(s) deleted, {outcomes.Sum(o => o.KeysDestroyed)} data key(s) destroyed");
        return 0;
    }

    private static async Task<int> RotateSigningKey(IServiceProvider services, TextWriter output)
    {
        var created = await services.GetRequiredService<SigningKeys>().RotateAsync(new Actor($"gp ({Environment.UserName})", []));
        await output.WriteLineAsync($"new signing key {created.KeyId}; earlier keys are retired and still verify what they signed");
        return 0;
    }

    private static async Task<int> PublicKeys(IServiceProvider services, string[] options, TextWriter output, TextWriter error)
    {
        var values = ParseOptions(options);
        if (values is null || values.Keys.Any(key => key != "--out"))
        {
            await error.WriteLineAsync("gp: usage: gp keys public [--out <file>]");
            return 2;
        }
        var keys = await services.GetRequiredService<SigningKeys>().PublicKeysAsync();
        if (keys.Count == 0)
        {
            await error.WriteLineAsync("gp: the portal has no signing key yet; it makes one the first time it signs (or run gp keys rotate-signing)");
            return 1;
        }
        var pem = string.Concat(keys.Select(key => key.Pem));
        if (values.TryGetValue("--out", out var path))
        {
            try
            {
                await File.WriteAllTextAsync(path, pem);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"gp: cannot write {path}: {exception.Message}");
                return 2;
            }
            await output.WriteLineAsync($"{keys.Count} public key(s) written to {path}; current key {keys[0].KeyId}");
            return 0;
        }
        foreach (var key in keys)
            await output.WriteLineAsync($"# key {key.KeyId}, {key.Algorithm}, created {key.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}{(key.RetiredAt is { } retired ? $", retired {retired:yyyy-MM-ddTHH:mm:ssZ}" : ", current")}");
        await output.WriteAsync(pem);
        return 0;
    }

    private static async Task<int> CreateCollector(IServiceProvider services, string[] options, TextWriter output, TextWriter error)
    {
        var values = ParseOptions(options);
        if (values is null || !values.TryGetValue("--program", out var program) || !values.TryGetValue("--name", out var name))
        {
            await error.WriteLineAsync("gp: usage: gp collector create --program <key> --name <name>");
            return 2;
        }
        var actor = new Actor($"gp ({Environment.UserName})", [Roles.PrivacyOfficer]);
        try
        {
            var (collector, token) = await services.GetRequiredService<CollectorRegistry>().CreateAsync(program, name, actor);
            await output.WriteLineAsync($"collector {collector.Id} \"{collector.Name}\" created for program {program}");
            await output.WriteLineAsync("token (shown once, store it now):");
            await output.WriteLineAsync(token);
            return 0;
        }
        catch (Exception exception) when (exception is RuleViolation or NotFoundProblem)
        {
            await error.WriteLineAsync($"gp: {exception.Message}");
            return 2;
        }
    }

    private static async Task<int> RunBench(string[] args, TextWriter output, TextWriter error)
    {
        var values = args.Length > 0 ? ParseOptions(args[1..]) : null;
        if (args is ["mydata", ..] && values is not null)
            return await RunMyDataBench(values, output, error);
        if (args is ["grant-read", ..] && values is not null)
            return await RunGrantReadBench(values, output, error);
        if (args is ["purge", ..])
            return await RunPurgeBench(values, output, error);
        if (args is ["export", ..] && values is not null)
            return await RunExportBench(values, output, error);
        if (args is not ["ingest", ..] || values is null)
        {
            await error.WriteLineAsync("gp: usage: gp bench ingest [--records N] [--rounds N] [--engine sqlite|postgres] [--postgres <connection string>]");
            return 2;
        }
        var records = int.TryParse(values.GetValueOrDefault("--records", "200000"), out var r) && r >= IngestBenchmark.BatchSize ? r : -1;
        var rounds = int.TryParse(values.GetValueOrDefault("--rounds", "3"), out var n) && n is >= 1 and <= 20 ? n : -1;
        var engine = values.GetValueOrDefault("--engine", "sqlite").ToLowerInvariant();
        if (records < 0 || rounds < 0 || engine is not ("sqlite" or "postgres"))
        {
            await error.WriteLineAsync($"gp: --records is at least {IngestBenchmark.BatchSize}, --rounds 1 to 20, --engine sqlite or postgres");
            return 2;
        }
        var postgres = values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("GOVERNANCE_BENCH_POSTGRES");
        return await IngestBenchmark.RunAsync(records, rounds,
            engine == "postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite, postgres, output);
    }

    private static async Task<int> RunMyDataBench(Dictionary<string, string> values, TextWriter output, TextWriter error)
    {
        var records = int.TryParse(values.GetValueOrDefault("--records", "5000000"), out var r) && r >= 1 ? r : -1;
        var mine = int.TryParse(values.GetValueOrDefault("--mine", "100000"), out var m) && m >= 100 && m <= records ? m : -1;
        var engine = values.GetValueOrDefault("--engine", "sqlite").ToLowerInvariant();
        if (records < 0 || mine < 0 || engine is not ("sqlite" or "postgres"))
        {
            await error.WriteLineAsync("gp: usage: gp bench mydata [--records N] [--mine N (100 to --records)] [--engine sqlite|postgres] [--postgres <connection string>]");
            return 2;
        }
        var postgres = values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("GOVERNANCE_BENCH_POSTGRES");
        return await MyDataBenchmark.RunAsync(records, mine, engine == "postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite, postgres, output);
    }

    private static async Task<int> RunGrantReadBench(Dictionary<string, string> values, TextWriter output, TextWriter error)
    {
        var records = int.TryParse(values.GetValueOrDefault("--records", "5000000"), out var r) && r >= 1_000 ? r : -1;
        var engine = values.GetValueOrDefault("--engine", "sqlite").ToLowerInvariant();
        if (records < 0 || engine is not ("sqlite" or "postgres"))
        {
            await error.WriteLineAsync("gp: usage: gp bench grant-read [--records N (at least 1000)] [--engine sqlite|postgres] [--postgres <connection string>]");
            return 2;
        }
        var postgres = values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("GOVERNANCE_BENCH_POSTGRES");
        return await GrantReadBenchmark.RunAsync(records, engine == "postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite, postgres, output);
    }

    private static async Task<int> RunPurgeBench(Dictionary<string, string>? options, TextWriter output, TextWriter error)
    {
        var values = options ?? new Dictionary<string, string> { ["--records"] = "" };
        var records = int.TryParse(values.GetValueOrDefault("--records", "1000000"), out var r) && r >= 1_000 ? r : -1;
        var batch = int.TryParse(values.GetValueOrDefault("--batch", RetentionOptions.Default.BatchSize.ToString(CultureInfo.InvariantCulture)), out var b) && b >= 1 ? b : -1;
        var engine = values.GetValueOrDefault("--engine", "sqlite").ToLowerInvariant();
        if (records < 0 || batch < 0 || engine is not ("sqlite" or "postgres"))
        {
            await error.WriteLineAsync("gp: usage: gp bench purge [--records N (at least 1000)] [--batch N (sweep batch size)] [--engine sqlite|postgres] [--postgres <connection string>]");
            return 2;
        }
        var postgres = values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("GOVERNANCE_BENCH_POSTGRES");
        return await PurgeBenchmark.RunAsync(records, batch, engine == "postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite, postgres, output);
    }

    private static async Task<int> RunExportBench(Dictionary<string, string> values, TextWriter output, TextWriter error)
    {
        var events = int.TryParse(values.GetValueOrDefault("--events", "1000000"), out var e) && e >= 1_000 ? e : -1;
        var appends = int.TryParse(values.GetValueOrDefault("--appends", "20000"), out var a) && a >= 100 ? a : -1;
        var engine = values.GetValueOrDefault("--engine", "sqlite").ToLowerInvariant();
        if (events < 0 || appends < 0 || engine is not ("sqlite" or "postgres"))
        {
            await error.WriteLineAsync("gp: usage: gp bench export [--events N (at least 1000)] [--appends N (at least 100)] [--engine sqlite|postgres] [--postgres <connection string>]");
            return 2;
        }
        var postgres = values.GetValueOrDefault("--postgres") ?? Environment.GetEnvironmentVariable("GOVERNANCE_BENCH_POSTGRES");
        return await ExportBenchmark.RunAsync(events, appends, engine == "postgres" ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite, postgres, output);
    }

    /// <summary>Reads <c>--name value</c> pairs; null when a value is missing or an option repeats.</summary>
    internal static Dictionary<string, string>? ParseOptions(string[] options)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Length; i += 2)
        {
            if (!options[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= options.Length || !values.TryAdd(options[i], options[i + 1]))
                return null;
        }
        return values;
    }

    private static async Task<int> Unknown(string[] args, TextWriter error)
    {
        await error.WriteLineAsync($"gp: unknown command '{string.Join(' ', args)}'");
        await error.WriteLineAsync(Usage);
        return 2;
    }
}
