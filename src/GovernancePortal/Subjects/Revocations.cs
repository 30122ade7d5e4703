using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Subjects;

public static class RevocationKind
{
    /// <summary>Consent withdrawn: collection stops; the person may re-join later.</summary>
    public const string Withdrawal = "withdrawal";

    /// <summary>An objection to legitimate-interest processing: collection stops at once and the objection is reviewed.</summary>
    public const string Objection = "objection";
}

public sealed record Revocation
{
    public long Id { get; init; }
    public long SubjectId { get; init; }
    public long ProgramId { get; init; }
    public long? CategoryId { get; init; }
    public string Kind { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? WithdrawnAt { get; init; }
}

/// <summary>
/// A person withdraws from a program or one of its categories, and may re-join a consent program later.
/// Both take effect at the commit on every node: the subject row is locked here, and collection reads
/// revocations under a lock that conflicts with it.
/// </summary>
public sealed class Revocations(ConnectionFactory connections, ProgramQueries programs, DataKeyStore keys, AuditLog audit, TimeProvider time)
{
    private const string Columns = """
        id AS Id, subject_id AS SubjectId, program_id AS ProgramId, category_id AS CategoryId, kind AS Kind,
        created_at AS CreatedAt, withdrawn_at AS WithdrawnAt
        """;

    private const string Active = $"SELECT {Columns} FROM revocations WHERE subject_id = @SubjectId AND program_id = @ProgramId AND withdrawn_at IS NULL";

    private const string Insert = """
        INSERT INTO revocations (subject_id, program_id, category_id, kind, created_at)
        VALUES (@SubjectId, @ProgramId, @CategoryId, @Kind, @Now)
        RETURNING id
        """;

    /// <summary>
    /// Revokes the whole program (<paramref name="categoryKey"/> null) or one category. Revoking what is
    /// already revoked returns the existing revocation and changes nothing.
    /// </summary>
    public async Task<Revocation> RevokeAsync(long subjectId, string programKey, string? categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var revoked = await RevokeAsync(scope, subjectId, programKey, categoryKey, actor);
        if (revoked.Created)
            await scope.CommitAsync();
        return revoked.Revocation;
    }

    /// <summary>The same inside <paramref name="scope"/>, which commits it with whatever else the caller does (the request it files).</summary>
    public async Task<Revoked> RevokeAsync(WriteScope scope, long subjectId, string programKey, string? categoryKey, Actor actor)
    {
        var (program, categoryId) = await LockSubjectAndFindScopeAsync(scope, subjectId, programKey, categoryKey);
        var active = await scope.QueryAsync<Revocation>(Active, new { SubjectId = subjectId, ProgramId = program.Id });
        var covering = active.FirstOrDefault(r => r.CategoryId is null || r.CategoryId == categoryId);
        if (covering is not null)
            return new Revoked(covering, program, Created: false);

        var kind = program.LegalBasis == LegalBasis.Consent ? RevocationKind.Withdrawal : RevocationKind.Objection;
        // Taken after the subject lock: no record of this scope accepted later can have an earlier received time.
        var now = StoredTime.Normalize(time.GetUtcNow());
        var id = await scope.ExecuteScalarAsync<long>(Insert,
            new { SubjectId = subjectId, ProgramId = program.Id, CategoryId = categoryId, Kind = kind, Now = now });
        // What was collected until now stays under keys an erasure can destroy; a re-join starts new ones.
        await keys.SealAsync(scope, subjectId, program.Id, categoryId, now);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.SubjectRevoked,
            SubjectId: subjectId, Program: program.Key, Detail: $"{kind} of {(categoryKey is null ? "the whole program" : "category " + categoryKey)}"));
        return new Revoked(new Revocation { Id = id, SubjectId = subjectId, ProgramId = program.Id, CategoryId = categoryId, Kind = kind, CreatedAt = now }, program, Created: true);
    }

    /// <summary>
    /// Gives consent again: ends the person's withdrawal from the whole program (<paramref name="categoryKey"/>
    /// null: every withdrawal in it, whole and per category) or from one category. Collection of their data
    /// in that scope resumes from the commit. The erasure request filed when they withdrew stays as it is:
    /// records collected before they left are still erased as requested; new records are collected from now on.
    /// Returns false and changes nothing when nothing in that scope is withdrawn, so a double click is one effect.
    /// Only consent can be given again: an objection to legitimate interest is decided by a privacy officer.
    /// </summary>
    public async Task<bool> RejoinAsync(long subjectId, string programKey, string? categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var (program, categoryId) = await LockSubjectAndFindScopeAsync(scope, subjectId, programKey, categoryKey);
        if (program.LegalBasis != LegalBasis.Consent)
            throw new RuleViolation("This program does not rest on your consent, so there is nothing to re-join: your objection is with the privacy officers, who decide it and tell you why.");
        if (program.State == ProgramState.Retired)
            throw new RuleViolation("The program is retired and collects nothing any more, so there is nothing to re-join.");

        var active = (await scope.QueryAsync<Revocation>(Active, new { SubjectId = subjectId, ProgramId = program.Id })).ToList();
        var inScope = active.Where(r => categoryId is null || r.CategoryId is null || r.CategoryId == categoryId).ToList();
        // An objection filed while the program rested on legitimate interest is still an officer's to decide.
        if (inScope.Any(r => r.Kind == RevocationKind.Objection))
            throw new RuleViolation("Your objection to this program is with the privacy officers; they decide it and tell you why.");
        if (categoryId is not null && inScope.Any(r => r.CategoryId is null))
            throw new RuleViolation("You withdrew from the whole program: re-join the whole program instead. You can stop single categories again afterwards.");
        if (inScope.Count == 0)
            return false;

        var now = StoredTime.Normalize(time.GetUtcNow());
        await scope.ExecuteAsync($"UPDATE revocations SET withdrawn_at = @Now WHERE id {scope.Dialect.AnyOf("@Ids")}",
            new { Now = now, Ids = scope.Dialect.List(inScope.Select(r => r.Id)) });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.SubjectRejoined,
            SubjectId: subjectId, Program: program.Key,
            Detail: $"consent given again for {(categoryKey is null ? "the whole program" : "category " + categoryKey)}; earlier erasure requests stand"));
        await scope.CommitAsync();
        return true;
    }

    /// <summary>
    /// Locks the person, then finds the program and the category (null for the whole program). The lock
    /// comes first: collection reads revocations under a lock that conflicts with it, which is what makes a
    /// revocation or a re-join take effect exactly at its commit.
    /// </summary>
    private async Task<(MonitoringProgram Program, long? CategoryId)> LockSubjectAndFindScopeAsync(
        WriteScope scope, long subjectId, string programKey, string? categoryKey)
    {
        await LockSubjectAsync(scope, subjectId);
        var program = await programs.RequireAsync(scope, programKey);
        if (categoryKey is null)
            return (program, null);
        var categoryId = program.Categories.FirstOrDefault(c => c.Key == categoryKey && c.RetiredAt is null)?.Id
            ?? throw new NotFoundProblem($"The program has no category '{categoryKey}'.");
        return (program, categoryId);
    }

    /// <summary>
    /// Locks the person for a change to what may be collected about them: their gate exclusively, then their row.
    /// Collection reads revocations after taking the same gate shared (and a read under a grant after a share lock
    /// on the row), so the two are ordered: the change holds from its commit on. Every such change must come here
    /// first: collection on PostgreSQL relies on the gate alone.
    /// </summary>
    public static async Task LockSubjectAsync(WriteScope scope, long subjectId)
    {
        await scope.GateAsync(Gate.Subject, GateMode.Exclusive, subjectId);
        await scope.ExecuteAsync($"SELECT id FROM subjects WHERE id = @Id {scope.Dialect.ForUpdate}", new { Id = subjectId });
    }

    // The objection a request stands for: same subject, program and scope (the whole program, or one category).
    private const string EndObjection = $"""
        UPDATE revocations SET withdrawn_at = @Now
        WHERE subject_id = @SubjectId AND kind = '{RevocationKind.Objection}' AND withdrawn_at IS NULL
          AND program_id = (SELECT program_id FROM requests WHERE id = @RequestId)
          AND coalesce(category_id, 0) = coalesce((SELECT category_id FROM requests WHERE id = @RequestId), 0)
        """;

    /// <summary>
    /// Ends the objection that the objection request <paramref name="requestId"/> filed (an officer rejected
    /// it), inside the decision's scope. The time is taken after the subject lock, as for every change to
    /// what may be collected about the person.
    /// </summary>
    public async Task EndObjectionAsync(WriteScope scope, long subjectId, long requestId)
    {
        await LockSubjectAsync(scope, subjectId);
        await scope.ExecuteAsync(EndObjection, new { SubjectId = subjectId, RequestId = requestId, Now = StoredTime.Normalize(time.GetUtcNow()) });
    }
}

/// <summary>A revocation, the program it is in, and whether this call made it (false: it was in force already).</summary>
public sealed record Revoked(Revocation Revocation, MonitoringProgram Program, bool Created);
