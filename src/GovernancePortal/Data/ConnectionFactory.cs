using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace GovernancePortal.Data;

/// <summary>Opens connections to the configured engine, set up the way the portal's SQL expects.</summary>
public sealed class ConnectionFactory
{
    private readonly NpgsqlDataSource? _postgres;

    public ConnectionFactory(DatabaseOptions options)
    {
        Options = options;
        Dialect = SqlDialect.For(options.Provider);
        if (options.Provider == DatabaseProvider.Postgres)
            _postgres = NpgsqlDataSource.Create(options.ConnectionString);
        DapperSetup.EnsureRegistered();
    }

    public DatabaseOptions Options { get; }

    public SqlDialect Dialect { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
            return await _postgres.OpenConnectionAsync(cancellationToken);

        var connection = new SqliteConnection(Options.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await connection.ExecuteAsync("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    /// <summary>
    /// Begins a write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so a
    /// read inside it cannot go stale before the write; on PostgreSQL it is READ COMMITTED.
    /// </summary>
    public static async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken = default) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: false)
            : await connection.BeginTransactionAsync(cancellationToken);
}
