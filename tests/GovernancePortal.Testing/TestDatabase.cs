using System.Data.Common;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace GovernancePortal.Testing;

public enum Engine
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A fresh database on one engine, migrated unless asked otherwise, with the library's services
/// over it: SQLite as a file in a temporary folder, PostgreSQL as a new database on
/// <see cref="PostgresServer"/>. The folder doubles as the data folder (key files and the like).
/// Host tests can point a WebApplicationFactory at it through <see cref="Configuration"/>.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>Runs a theory once per engine: <c>[Theory, MemberData(nameof(Engines))]</c> in a <see cref="DatabaseTests"/> class.</summary>
    public static TheoryData<Engine> Engines => new(Engine.Sqlite, Engine.Postgres);

    private TestDatabase(Engine engine, string folder, PortalSettings settings, TimeProvider time)
    {
        Engine = engine;
        Folder = folder;
        Settings = settings;
        Time = time;
        Services = BuildServices();
    }

    public Engine Engine { get; }

    /// <summary>A temporary folder of this database alone, removed on dispose; also <see cref="PortalSettings.DataFolder"/>.</summary>
    public string Folder { get; }

    public PortalSettings Settings { get; }

    public string ConnectionString => Settings.Database.ConnectionString;

    public TimeProvider Time { get; }

    /// <summary>The library's services (<c>AddPortalCore</c>) over this database.</summary>
    public ServiceProvider Services { get; }

    /// <summary>The settings as configuration keys, the way the web host and <c>gp</c> read them.</summary>
    public IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["Database:Provider"] = Settings.Database.Provider.ToString(),
        ["ConnectionStrings:Portal"] = ConnectionString,
        ["Encryption:MasterKey"] = Settings.MasterKeys.Current.ToBase64(),
        ["Encryption:RetiredMasterKeys"] = string.Join(',', Settings.MasterKeys.Retired.Select(key => key.ToBase64())),
        ["Storage:DataFolder"] = Folder,
    };

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public Task<DbConnection> OpenAsync() => Get<ConnectionFactory>().OpenAsync();

    /// <summary>
    /// Creates the database. On PostgreSQL this skips the calling test when no server is available
    /// (fails it when <c>CI=true</c>).
    /// </summary>
    public static async Task<TestDatabase> CreateAsync(Engine engine, TimeProvider? time = null, MasterKeyRing? masterKeys = null, bool migrate = true)
    {
        var folder = Directory.CreateTempSubdirectory("gp-test-").FullName;
        try
        {
            var options = engine switch
            {
                Engine.Sqlite => new DatabaseOptions(DatabaseProvider.Sqlite,
                    new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "portal.db") }.ToString()),
                Engine.Postgres => new DatabaseOptions(DatabaseProvider.Postgres, await PostgresServer.CreateDatabaseAsync()),
                _ => throw new ArgumentOutOfRangeException(nameof(engine)),
            };
            var settings = new PortalSettings(options, masterKeys ?? new MasterKeyRing(MasterKey.Generate()), folder);
            var database = new TestDatabase(engine, folder, settings, time ?? TimeProvider.System);
            if (migrate)
                await database.Get<SchemaMigrator>().MigrateAsync();
            return database;
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Another set of the library's services over this same database, as a second node or a second
    /// <c>gp</c> process would have, optionally with other master keys or another clock. The caller disposes it.
    /// </summary>
    public ServiceProvider BuildServices(MasterKeyRing? masterKeys = null, TimeProvider? time = null) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton(time ?? Time)
            .AddPortalCore(masterKeys is null ? Settings : Settings with { MasterKeys = masterKeys })
            .BuildServiceProvider();

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (Engine == Engine.Postgres)
            await PostgresServer.DropDatabaseAsync(ConnectionString);
        else
            SqliteConnection.ClearPool(new SqliteConnection(ConnectionString));
        Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>Base of a test class whose data tests run on both engines (as Dapper's provider tests do).</summary>
public abstract class DatabaseTests
{
    public static TheoryData<Engine> Engines => TestDatabase.Engines;

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;
}
