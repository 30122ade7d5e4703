using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using EvolveDb.Dialect;
using Npgsql;
using NpgsqlTypes;

namespace GovernancePortal.Data;

/// <summary>The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.</summary>
public abstract class SqlDialect
{
    protected const string InsertRecordColumns =
        "records (program_id, category_id, subject_id, collector_id, data_key_id, captured_at, received_at, nonce, payload)";

    public abstract DatabaseProvider Provider { get; }

    /// <summary>Folder under <c>db/</c> with this engine's numbered schema files.</summary>
    public abstract string ScriptFolder { get; }

    internal abstract DBMS EvolveDbms { get; }

    /// <summary>
    /// Serializes writers of one named resource (the audit chain) until the transaction ends.
    /// SQLite already serializes write transactions (BEGIN IMMEDIATE).
    /// </summary>
    public abstract Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name);

    /// <summary>
    /// Row-lock clauses appended to a SELECT inside a write transaction. PostgreSQL needs them for the
    /// switch checks to be linearizable; SQLite holds the database write lock for the whole transaction.
    /// </summary>
    public abstract string ForShare { get; }

    public abstract string ForUpdate { get; }

    /// <summary>
    /// Membership in a list parameter made by <see cref="List{T}"/>: one parameter however long the list,
    /// so the statement text and its binding cost stay the same (json_each on SQLite, an array on PostgreSQL).
    /// </summary>
    public abstract string AnyOf(string parameter);

    /// <summary>The value of a list parameter for <see cref="AnyOf"/>.</summary>
    public abstract object List<T>(IEnumerable<T> values);

    /// <summary>The UTC day of a stored time in <paramref name="column"/>, as whole days since 1970-01-01 (an integer).</summary>
    public abstract string UtcDay(string column);

    private static readonly SqlDialect Sqlite = new SqliteDialect();
    private static readonly SqlDialect Postgres = new PostgresDialect();

    /// <summary>The dialect of an open connection, for code handed a connection rather than the factory.</summary>
    public static SqlDialect Of(DbConnection connection) => connection is NpgsqlConnection ? Postgres : Sqlite;

    /// <summary>Inserts sealed records in bulk inside <paramref name="transaction"/>: COPY on PostgreSQL, one reused prepared command on SQLite.</summary>
    public abstract Task InsertRecordsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default);

    /// <summary>
    /// The pattern of a case-insensitive "contains" search, for <c>lower(column) LIKE @Pattern ESCAPE '\'</c>:
    /// the text lower-cased and trimmed, with LIKE's own characters escaped, so a search is never a wildcard.
    /// </summary>
    public static string ContainsPattern(string? text) =>
        "%" + (text ?? "").Trim().ToLowerInvariant()
            .Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";

    public static SqlDialect For(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => Sqlite,
        DatabaseProvider.Postgres => Postgres,
        _ => throw new ConfigurationProblem($"Database:Provider '{provider}' is not known."),
    };
}

public enum LockName : long
{
    AuditChain = 7_301,
    SigningKeys = 7_302,
    AuditCheckpoints = 7_303,
}

public sealed class SqliteDialect : SqlDialect
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    public override string ScriptFolder => "sqlite";
    internal override DBMS EvolveDbms => DBMS.SQLite;
    public override Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name) => Task.CompletedTask;
    public override string ForShare => "";
    public override string ForUpdate => "";
    public override string AnyOf(string parameter) => $"IN (SELECT value FROM json_each({parameter}))";
    public override object List<T>(IEnumerable<T> values) => System.Text.Json.JsonSerializer.Serialize(values);
    public override string UtcDay(string column) => $"({column} / 86400000000)";

    /// <summary>
    /// One prepared INSERT, reused for every row and bound by position through SQLite's own API, inside the
    /// transaction already open on the connection. (Binding by name through ADO.NET costs more than the insert.)
    /// </summary>
    public override Task InsertRecordsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default)
    {
        var db = ((SqliteConnection)connection).Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, $"INSERT INTO {InsertRecordColumns} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", out var statement));
        try
        {
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                raw.sqlite3_bind_int64(statement, 1, row.ProgramId);
                raw.sqlite3_bind_int64(statement, 2, row.CategoryId);
                raw.sqlite3_bind_int64(statement, 3, row.SubjectId);
                if (row.CollectorId is { } collectorId)
                    raw.sqlite3_bind_int64(statement, 4, collectorId);
                else
                    raw.sqlite3_bind_null(statement, 4);
                raw.sqlite3_bind_int64(statement, 5, row.DataKeyId);
                raw.sqlite3_bind_int64(statement, 6, DapperSetup.ToSqliteValue(row.CapturedAt));
                raw.sqlite3_bind_int64(statement, 7, DapperSetup.ToSqliteValue(row.ReceivedAt));
                raw.sqlite3_bind_blob(statement, 8, row.Nonce);
                raw.sqlite3_bind_blob(statement, 9, row.Payload);
                var result = raw.sqlite3_step(statement);
                if (result != raw.SQLITE_DONE)
                    Check(db, result);
                raw.sqlite3_reset(statement);
            }
        }
        finally
        {
            statement.Dispose();
        }
        return Task.CompletedTask;
    }

    private static void Check(sqlite3 db, int result)
    {
        if (result != raw.SQLITE_OK && result != raw.SQLITE_DONE)
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), result);
    }
}

public sealed class PostgresDialect : SqlDialect
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;
    public override string ScriptFolder => "postgres";
    internal override DBMS EvolveDbms => DBMS.PostgreSQL;

    public override Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = (long)name }, transaction);

    public override string ForShare => "FOR SHARE";
    public override string ForUpdate => "FOR UPDATE";
    public override string AnyOf(string parameter) => $"= ANY({parameter})";
    public override object List<T>(IEnumerable<T> values) => values.ToArray();
    public override string UtcDay(string column) => $"(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01')";

    public override async Task InsertRecordsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RecordRow> rows, CancellationToken cancellationToken = default)
    {
        // COPY runs inside the connection's open transaction: the rows commit or vanish with it.
        await using var importer = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
            $"COPY {InsertRecordColumns} FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(row.ProgramId, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(row.CategoryId, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(row.SubjectId, NpgsqlDbType.Bigint, cancellationToken);
            if (row.CollectorId is { } collectorId)
                await importer.WriteAsync(collectorId, NpgsqlDbType.Bigint, cancellationToken);
            else
                await importer.WriteNullAsync(cancellationToken);
            await importer.WriteAsync(row.DataKeyId, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(row.CapturedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(row.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(row.Nonce, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(row.Payload, NpgsqlDbType.Bytea, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }
}
