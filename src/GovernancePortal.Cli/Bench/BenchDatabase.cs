using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// A throwaway database for one benchmark run: a SQLite file in a temporary folder, or a new database
/// on a PostgreSQL server (dropped afterwards). Never the portal's own database.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string? _adminConnectionString;
    private readonly string? _databaseName;

    private BenchDatabase(DatabaseOptions options, string folder, string? adminConnectionString, string? databaseName)
    {
        Options = options;
        Folder = folder;
        _adminConnectionString = adminConnectionString;
        _databaseName = databaseName;
        MasterKey = MasterKey.Generate();
    }

    public DatabaseOptions Options { get; }
    public string Folder { get; }
    public MasterKey MasterKey { get; }

    public string EngineName => Options.Provider == DatabaseProvider.Postgres ? "PostgreSQL" : "SQLite";

    public IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["Database:Provider"] = Options.Provider.ToString(),
        ["ConnectionStrings:Portal"] = Options.ConnectionString,
        ["Encryption:MasterKey"] = MasterKey.ToBase64(),
        ["Storage:DataFolder"] = Folder,
    };

    public static async Task<BenchDatabase> CreateAsync(DatabaseProvider provider, string? postgresConnectionString)
    {
        var folder = Directory.CreateTempSubdirectory("gp-bench-").FullName;
        if (provider == DatabaseProvider.Sqlite)
        {
            var sqlite = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "bench.db") }.ToString();
            return new BenchDatabase(new DatabaseOptions(DatabaseProvider.Sqlite, sqlite), folder, null, null);
        }
        if (string.IsNullOrWhiteSpace(postgresConnectionString))
            throw new ConfigurationProblem("the PostgreSQL benchmark needs a server: pass --postgres <connection string> or set GOVERNANCE_BENCH_POSTGRES (the user must be allowed to create databases).");
        var name = "gp_bench_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(postgresConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(postgresConnectionString) { Database = name, MaxPoolSize = 32 };
        return new BenchDatabase(new DatabaseOptions(DatabaseProvider.Postgres, builder.ToString()), folder, postgresConnectionString, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_adminConnectionString is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_databaseName} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: the temporary folder is left for the system to clean.
        }
    }
}
