using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace GovernancePortal.Data;

/// <summary>
/// Applies the numbered schema files of <c>db/&lt;engine&gt;/</c> in order with Evolve, which journals
/// them in <c>schema_history</c>. Safe to run twice and from two processes at once: PostgreSQL runs
/// under Evolve's advisory lock, SQLite under an exclusive lock file beside the database.
/// </summary>
public sealed class SchemaMigrator(ConnectionFactory connections, ILogger<SchemaMigrator> logger)
{
    public const string HistoryTable = "schema_history";

    /// <summary>Returns how many files were applied; an unreachable database is a <see cref="DatabaseUnavailable"/>.</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await ApplyAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not DatabaseUnavailable && DatabaseUnavailable.IsUnavailable(exception))
        {
            throw DatabaseUnavailable.From(connections.Options, exception);
        }
    }

    private async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        var folder = ScriptFolder(connections.Dialect);
        using var fileLock = connections.Dialect.Provider == DatabaseProvider.Sqlite
            ? await SqliteMigrationLock.AcquireAsync(connections.Options.ConnectionString, cancellationToken)
            : null;

        await using var connection = await connections.OpenAsync(cancellationToken);
        if (connection is SqliteConnection)
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        var evolve = new EvolveDb.Evolve(connection, message => logger.LogDebug("{Message}", message), connections.Dialect.EvolveDbms)
        {
            Locations = [folder],
            MetadataTableName = HistoryTable,
            IsEraseDisabled = true,
            EnableClusterMode = true,
            PlaceholderPrefix = "${gp:",
        };
        if (connections.Dialect.Provider == DatabaseProvider.Postgres)
            evolve.Schemas = [await CurrentSchemaAsync(connection)];
        evolve.Migrate();
        if (evolve.NbMigration > 0)
            logger.LogInformation("Applied {Count} schema migration(s) from {Folder}", evolve.NbMigration, folder);
        return evolve.NbMigration;
    }

    /// <summary>The versions of <c>db/&lt;engine&gt;/</c> that are not yet applied; empty when the schema is current.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken = default)
    {
        var expected = Directory.GetFiles(ScriptFolder(connections.Dialect), "V*__*.sql")
            .Select(path => Path.GetFileName(path)[1..].Split("__")[0].Replace('_', '.'))
            .ToList();
        await using var connection = await connections.OpenAsync(cancellationToken);
        IEnumerable<string> applied;
        try
        {
            applied = await connection.QueryAsync<string>($"SELECT version FROM {HistoryTable} WHERE success = true AND version IS NOT NULL");
        }
        catch (DbException)
        {
            return expected;
        }
        var done = applied.ToHashSet();
        return expected.Where(version => !done.Contains(version)).ToList();
    }

    /// <summary>The applied migrations, oldest first, as journaled in <c>schema_history</c>.</summary>
    public async Task<IReadOnlyList<AppliedMigration>> AppliedAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<AppliedMigration>(
            $"SELECT version AS Version, name AS Name, installed_on AS InstalledOn FROM {HistoryTable} WHERE version IS NOT NULL AND success = true ORDER BY id")).ToList();
    }

    private static async Task<string> CurrentSchemaAsync(DbConnection connection) =>
        await connection.ExecuteScalarAsync<string>("SELECT current_schema()") ?? "public";

    /// <summary>Finds <c>db/&lt;engine&gt;</c>: beside the binaries after a build or publish, else up the tree from the working folder.</summary>
    public static string ScriptFolder(SqlDialect dialect)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "db", dialect.ScriptFolder);
        if (Directory.Exists(beside))
            return beside;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "db", dialect.ScriptFolder);
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new ConfigurationProblem($"The schema folder db/{dialect.ScriptFolder} was not found beside the binaries.");
    }
}

/// <summary>
/// Cross-process exclusion for SQLite migrations: an exclusively opened file next to the database.
/// The file is never deleted: unlinking it while another process waits would let two hold a lock.
/// </summary>
internal sealed class SqliteMigrationLock : IDisposable
{
    private readonly FileStream? _stream;

    private SqliteMigrationLock(FileStream? stream) => _stream = stream;

    public static async Task<SqliteMigrationLock> AcquireAsync(string connectionString, CancellationToken cancellationToken)
    {
        var source = SqliteFiles.DataSourceOf(connectionString);
        if (string.IsNullOrEmpty(source) || source == ":memory:")
            return new SqliteMigrationLock(null);
        var path = source + ".migrate-lock";
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                return new SqliteMigrationLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    public void Dispose() => _stream?.Dispose();
}

public sealed record AppliedMigration
{
    public string Version { get; init; } = "";
    public string Name { get; init; } = "";
    public string InstalledOn { get; init; } = "";
}
