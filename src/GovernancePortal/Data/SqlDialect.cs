using System.Data.Common;
using Dapper;
using EvolveDb.Dialect;

namespace GovernancePortal.Data;

/// <summary>The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.</summary>
public abstract class SqlDialect
{
    public abstract DatabaseProvider Provider { get; }

    /// <summary>Folder under <c>db/</c> with this engine's numbered schema files.</summary>
    public abstract string ScriptFolder { get; }

    internal abstract DBMS EvolveDbms { get; }

    /// <summary>
    /// Serializes writers of one named resource (the audit chain, a program's switches) until the
    /// transaction ends. SQLite already serializes write transactions (BEGIN IMMEDIATE).
    /// </summary>
    public abstract Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name);

    public static SqlDialect For(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteDialect(),
        DatabaseProvider.Postgres => new PostgresDialect(),
        _ => throw new ConfigurationProblem($"Database:Provider '{provider}' is not known."),
    };
}

public enum LockName : long
{
    AuditChain = 7_301,
}

public sealed class SqliteDialect : SqlDialect
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    public override string ScriptFolder => "sqlite";
    internal override DBMS EvolveDbms => DBMS.SQLite;
    public override Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name) => Task.CompletedTask;
}

public sealed class PostgresDialect : SqlDialect
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;
    public override string ScriptFolder => "postgres";
    internal override DBMS EvolveDbms => DBMS.PostgreSQL;

    public override Task LockAsync(DbConnection connection, DbTransaction transaction, LockName name) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = (long)name }, transaction);
}
