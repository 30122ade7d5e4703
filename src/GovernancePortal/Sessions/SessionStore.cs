using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Sessions;

/// <summary>
/// Signed-in sessions, kept in the database so that every node sees a sign-out at once. A session is
/// found by the SHA-256 of the key its cookie carries; the ticket (the signed-in principal, encrypted by
/// the host) is opaque here. A session is active until it is ended or its absolute lifetime runs out.
/// </summary>
public sealed class SessionStore(ConnectionFactory connections)
{
    /// <summary>How long an ended or expired session is kept before it is deleted, so recent sign-outs can still be told apart.</summary>
    public static readonly TimeSpan KeptAfterEnd = TimeSpan.FromDays(1);

    public const string SignedOut = "signed-out";
    public const string SignedOutEverywhere = "signed-out-everywhere";

    private const string Insert = """
        INSERT INTO sessions (key_hash, subject_id, created_at, renewed_at, expires_at, ticket)
        VALUES (@KeyHash, @SubjectId, @Now, @Now, @ExpiresAt, @Ticket)
        """;

    private const string DeleteOld = "DELETE FROM sessions WHERE expires_at < @Cutoff OR ended_at < @Cutoff";

    public async Task CreateAsync(string keyHash, long subjectId, byte[] ticket, DateTimeOffset now, DateTimeOffset expiresAt,
        CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.ExecuteAsync(DeleteOld, new { Cutoff = now - KeptAfterEnd });
        await scope.ExecuteAsync(Insert, new { KeyHash = keyHash, SubjectId = subjectId, Now = now, ExpiresAt = expiresAt, Ticket = ticket });
        await scope.CommitAsync();
    }

    private const string Active = "key_hash = @KeyHash AND ended_at IS NULL AND expires_at > @Now";

    private const string Renew = $"UPDATE sessions SET ticket = @Ticket, renewed_at = @Now WHERE {Active}";

    /// <summary>Keeps the renewed ticket of an active session; an ended one stays ended.</summary>
    public async Task RenewAsync(string keyHash, byte[] ticket, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(Renew, new { KeyHash = keyHash, Ticket = ticket, Now = now }, cancellationToken: cancellationToken));
    }

    private const string FindActive = $"SELECT ticket AS Ticket, expires_at AS ExpiresAt FROM sessions WHERE {Active}";

    /// <summary>The ticket of an active session, or null when it never existed, was ended or has expired.</summary>
    public async Task<ActiveSession?> FindActiveAsync(string keyHash, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ActiveSession>(
            new CommandDefinition(FindActive, new { KeyHash = keyHash, Now = now }, cancellationToken: cancellationToken));
    }

    private const string CountActive = $"SELECT COUNT(*) FROM sessions WHERE {Active}";

    public async Task<bool> IsActiveAsync(string keyHash, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(
            new CommandDefinition(CountActive, new { KeyHash = keyHash, Now = now }, cancellationToken: cancellationToken)) > 0;
    }

    private const string End = "UPDATE sessions SET ended_at = @Now, ended_reason = @Reason WHERE key_hash = @KeyHash AND ended_at IS NULL";

    public async Task EndAsync(string keyHash, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(End, new { KeyHash = keyHash, Reason = reason, Now = now }, cancellationToken: cancellationToken));
    }

    private const string EndAll = "UPDATE sessions SET ended_at = @Now, ended_reason = @Reason WHERE subject_id = @SubjectId AND ended_at IS NULL";

    /// <summary>Ends every session of a person, on every node; returns how many were active.</summary>
    public async Task<int> EndAllAsync(long subjectId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(EndAll, new { SubjectId = subjectId, Reason = reason, Now = now }, cancellationToken: cancellationToken));
    }
}

public sealed record ActiveSession
{
    public byte[] Ticket { get; init; } = [];
    public DateTimeOffset ExpiresAt { get; init; }
}
