using System.Data.Common;
using System.Net.Sockets;

namespace GovernancePortal.Data;

/// <summary>The database could not be reached or refused to work; the message names where, never credentials.</summary>
public sealed class DatabaseUnavailable(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// Whether <paramref name="exception"/> (or what it wraps) means the database cannot serve now and a retry may
    /// succeed: no connection, a server shutting down or out of resources, a busy or unwritable SQLite file, a
    /// transaction the server rolled back to be retried. A constraint or SQL error is a fault, not an outage.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        DatabaseUnavailable => true,
        Npgsql.PostgresException postgres => IsUnavailableState(postgres.SqlState),
        Microsoft.Data.Sqlite.SqliteException sqlite => IsUnavailableCode(sqlite.SqliteErrorCode),
        DbException => true,
        SocketException => true,
        TimeoutException => true,
        EvolveDb.EvolveException evolve => evolve.InnerException is null || IsUnavailable(evolve.InnerException),
        _ => exception.InnerException is not null && IsUnavailable(exception.InnerException),
    };

    // SQLSTATE classes: 08 connection exception, 28 invalid authorization (wrong user or password), 40 transaction
    // rollback (serialization failure, deadlock), 53 insufficient resources, 57P operator intervention (shutdown,
    // cannot connect now), 58 system error; 3D000, the database does not exist; 55000, as a server answers a new
    // connection to a database that does not accept connections now.
    private static bool IsUnavailableState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("28", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
        || state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("58", StringComparison.Ordinal)
        || state.StartsWith("40", StringComparison.Ordinal) || state is "3D000" or "55000";

    // SQLite result codes: BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14, PROTOCOL 15.
    private static bool IsUnavailableCode(int code) => code is 5 or 6 or 7 or 8 or 10 or 13 or 14 or 15;

    public static DatabaseUnavailable From(DatabaseOptions options, Exception exception)
    {
        var root = exception;
        while (root.InnerException is not null && root is not DbException and not SocketException)
            root = root.InnerException;
        return new DatabaseUnavailable($"the {options.Describe()} is not available: {root.Message}", exception);
    }
}
