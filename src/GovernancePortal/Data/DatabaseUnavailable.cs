using System.Data.Common;
using System.Net.Sockets;

namespace GovernancePortal.Data;

/// <summary>The database could not be reached or refused to work; the message names where, never credentials.</summary>
public sealed class DatabaseUnavailable(string message, Exception inner) : Exception(message, inner)
{
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        DatabaseUnavailable => true,
        DbException => true,
        SocketException => true,
        TimeoutException => true,
        EvolveDb.EvolveException evolve => evolve.InnerException is null || IsUnavailable(evolve.InnerException),
        _ => exception.InnerException is not null && IsUnavailable(exception.InnerException),
    };

    public static DatabaseUnavailable From(DatabaseOptions options, Exception exception)
    {
        var root = exception;
        while (root.InnerException is not null && root is not DbException and not SocketException)
            root = root.InnerException;
        return new DatabaseUnavailable($"the {options.Describe()} is not available: {root.Message}", exception);
    }
}
