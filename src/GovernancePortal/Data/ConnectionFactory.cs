using System.Collections.Concurrent;
using System.Data;
using System.Runtime.CompilerServices;
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
        {
            // Statements run again and again (collection runs the same dozen for every batch) are prepared once
            // per pooled connection and kept, unless the connection string says otherwise.
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            if (builder.MaxAutoPrepare == 0)
                builder.MaxAutoPrepare = 64;
            _postgres = NpgsqlDataSource.Create(builder.ConnectionString);
        }
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
        // synchronous = FULL: a commit is on disk when it returns, so an answer sent after it (collection's 200, an
        // audit event before the data it logs) survives a power cut, not only a crash of the process.
        // The write-ahead log is checkpointed in the background (SqliteCheckpoints); SQLite's own checkpoint, which
        // runs inside a commit, only past its safety net. temp_store = MEMORY keeps the savepoints' journal of a
        // collection group (and temporary sort trees, which the portal's queries keep small) out of temporary files.
        await connection.ExecuteAsync($"PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {SqliteCheckpoints.SafetyNet};");
        return connection;
    }

    /// <summary>Opens a connection and begins a write transaction on it: the unit of work features pass to each other.</summary>
    public async Task<WriteScope> BeginWriteAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            return new WriteScope(connection, await BeginWriteAsync(connection, cancellationToken), Dialect, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Begins a write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so a
    /// read inside it cannot go stale before the write; on PostgreSQL it is READ COMMITTED.
    /// </summary>
    public static async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        if (connection is not SqliteConnection sqlite)
            return await connection.BeginTransactionAsync(cancellationToken);
        await SqliteWriterQueue.EnterAsync(sqlite, cancellationToken);
        return sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: false);
    }
}

/// <summary>
/// SQLite has one writer at a time, and a writer that finds the lock taken sleeps in growing steps
/// (the busy timeout). Writers of this process queue here instead, first come first served, and
/// leave the queue when their connection closes; the busy timeout remains for other processes.
/// </summary>
internal static class SqliteWriterQueue
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Queues = new(StringComparer.Ordinal);
    private static readonly ConditionalWeakTable<SqliteConnection, object> Holders = new();

    public static async Task EnterAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        if (Holders.TryGetValue(connection, out _))
            return;
        var queue = Queues.GetOrAdd(connection.DataSource, _ => new SemaphoreSlim(1, 1));
        await queue.WaitAsync(cancellationToken);
        Holders.Add(connection, queue);
        connection.StateChange += Leave;

        void Leave(object? sender, StateChangeEventArgs change)
        {
            if (change.CurrentState != ConnectionState.Closed)
                return;
            connection.StateChange -= Leave;
            Holders.Remove(connection);
            queue.Release();
        }
    }
}
