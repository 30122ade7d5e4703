using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Collection;

public sealed record Collector
{
    public long Id { get; init; }
    public long ProgramId { get; init; }
    public string Name { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastSeenAt { get; init; }
    public long RecordsAccepted { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
}

/// <summary>The collector a valid token belongs to.</summary>
public sealed record CollectorIdentity(long CollectorId, long ProgramId, string ProgramKey);

/// <summary>Collectors send records for exactly one program; privacy officers create and revoke them.</summary>
public sealed class CollectorRegistry(ConnectionFactory connections, ProgramQueries programs, AuditLog audit, TimeProvider time)
{
    public const int MaxNameLength = 100;

    private const string Columns = """
        c.id AS Id, c.program_id AS ProgramId, c.name AS Name, c.created_by AS CreatedBy, c.created_at AS CreatedAt,
        c.last_seen_at AS LastSeenAt, c.records_accepted AS RecordsAccepted, c.revoked_at AS RevokedAt, c.revoked_by AS RevokedBy
        """;


    private const string Insert = """
        INSERT INTO collectors (program_id, name, token_hash, created_by, created_at)
        VALUES (@ProgramId, @Name, @TokenHash, @CreatedBy, @CreatedAt)
        RETURNING id
        """;

    private const string ForProgram = $"SELECT {Columns} FROM collectors c JOIN programs p ON p.id = c.program_id WHERE p.key = @Key ORDER BY c.created_at DESC, c.id DESC";

    private const string ById = $"SELECT {Columns} FROM collectors c WHERE c.id = @Id";

    private const string Revoke = "UPDATE collectors SET revoked_at = @Now, revoked_by = @By WHERE id = @Id AND revoked_at IS NULL";

    private const string ByTokenHash = """
        SELECT c.id AS CollectorId, c.program_id AS ProgramId, p.key AS ProgramKey, c.token_hash AS TokenHash
        FROM collectors c JOIN programs p ON p.id = c.program_id
        WHERE c.token_hash = @Hash AND c.revoked_at IS NULL
        """;

    private const string RecordUse = """
        UPDATE collectors SET last_seen_at = @Now, records_accepted = records_accepted + @Accepted WHERE id = @Id
        """;

    /// <summary>Creates a collector and returns its token, which is shown this once and never stored.</summary>
    public async Task<(Collector Collector, string Token)> CreateAsync(string programKey, string name, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers create and revoke collectors.");
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
            throw new RuleViolation("Give the collector a name, for example the agent or bot it runs in.", "name");
        if (trimmed.Length > MaxNameLength)
            throw new RuleViolation($"A collector's name has at most {MaxNameLength} characters.", "name");

        var token = CollectorTokens.Generate();
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, programKey);
        if (program.State == ProgramState.Retired)
            throw new RuleViolation("The program is retired; it cannot have new collectors.");
        var id = await scope.ExecuteScalarAsync<long>(Insert, new
        {
            ProgramId = program.Id,
            Name = trimmed,
            TokenHash = CollectorTokens.Hash(token),
            CreatedBy = actor.Name,
            CreatedAt = StoredTime.Normalize(time.GetUtcNow()),
        });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.CollectorCreated,
            Program: program.Key, Detail: $"collector {id} \"{trimmed}\""));
        var collector = await scope.QuerySingleAsync<Collector>(ById, new { Id = id });
        await scope.CommitAsync();
        return (collector, token);
    }

    public async Task<IReadOnlyList<Collector>> ListAsync(string programKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<Collector>(new CommandDefinition(ForProgram, new { Key = programKey }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>
    /// Revokes a collector of the given program; its token stops working at the commit, also for a batch it is
    /// sending meanwhile, which stores nothing. Revoking twice changes nothing.
    /// </summary>
    public async Task RevokeAsync(string programKey, long collectorId, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers create and revoke collectors.");
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, programKey);
        await scope.GateAsync(Gate.Collector, GateMode.Exclusive, collectorId);
        var collector = await scope.QuerySingleOrDefaultAsync<Collector>($"{ById} {scope.Dialect.ForUpdate}", new { Id = collectorId });
        if (collector is null || collector.ProgramId != program.Id)
            throw new NotFoundProblem("There is no such collector in this program.");
        // The time is taken after the row lock: every record this collector stored before the revocation has an earlier received time.
        var changed = await scope.ExecuteAsync(Revoke, new { Id = collectorId, Now = StoredTime.Normalize(time.GetUtcNow()), By = actor.Name });
        if (changed == 0)
            return;
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.CollectorRevoked,
            Program: program.Key, Detail: $"collector {collectorId} \"{collector.Name}\""));
        await scope.CommitAsync();
    }

    /// <summary>The collector of a presented token, or null when the token is malformed, unknown or revoked.</summary>
    public async Task<CollectorIdentity?> AuthenticateAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (!CollectorTokens.LooksValid(token))
            return null;
        await using var connection = await connections.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(ByTokenHash, new { Hash = CollectorTokens.Hash(token!) }, cancellationToken: cancellationToken));
        return row is not null && CollectorTokens.Matches(row.TokenHash, token!)
            ? new CollectorIdentity(row.CollectorId, row.ProgramId, row.ProgramKey)
            : null;
    }

    /// <summary>Counts accepted records in their own transaction, as its last statement: the count commits with them.</summary>
    public Task RecordUseAsync(WriteScope scope, long collectorId, int accepted) =>
        scope.ExecuteAsync(RecordUse, new { Id = collectorId, Accepted = accepted, Now = StoredTime.Normalize(time.GetUtcNow()) });

    /// <summary>Counts accepted records in a transaction of its own.</summary>
    public async Task RecordUseAsync(long collectorId, int accepted, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await RecordUseAsync(scope, collectorId, accepted);
        await scope.CommitAsync();
    }


    private sealed record TokenRow
    {
        public long CollectorId { get; init; }
        public long ProgramId { get; init; }
        public string ProgramKey { get; init; } = "";
        public byte[] TokenHash { get; init; } = [];
    }
}
