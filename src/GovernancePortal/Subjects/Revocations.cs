using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
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
/// A person withdraws from a program or one of its categories. From the commit on, collection of
/// their data in that scope is refused on every node: the subject row is locked here, and collection
/// reads revocations under a lock that conflicts with it.
/// </summary>
public sealed class Revocations(ConnectionFactory connections, AuditLog audit, TimeProvider time)
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
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection, cancellationToken);
        await connection.ExecuteAsync($"SELECT id FROM subjects WHERE id = @Id {connections.Dialect.ForUpdate}", new { Id = subjectId }, transaction);
        var program = (await ProgramRegister.ListAsync(connection, transaction)).FirstOrDefault(p => p.Key == programKey)
            ?? throw new NotFound($"There is no program '{programKey}'.");
        long? categoryId = null;
        if (categoryKey is not null)
        {
            categoryId = program.Categories.FirstOrDefault(c => c.Key == categoryKey && c.RetiredAt is null)?.Id
                ?? throw new NotFound($"The program has no category '{categoryKey}'.");
        }

        var active = (await connection.QueryAsync<Revocation>(Active, new { SubjectId = subjectId, ProgramId = program.Id }, transaction)).ToList();
        var covering = active.FirstOrDefault(r => r.CategoryId is null || r.CategoryId == categoryId);
        if (covering is not null)
            return covering;

        var kind = program.LegalBasis == LegalBasis.Consent ? RevocationKind.Withdrawal : RevocationKind.Objection;
        // Taken after the subject lock: no record of this scope accepted later can have an earlier received time.
        var now = StoredTime.Normalize(time.GetUtcNow());
        var id = await connection.ExecuteScalarAsync<long>(Insert,
            new { SubjectId = subjectId, ProgramId = program.Id, CategoryId = categoryId, Kind = kind, Now = now }, transaction);
        await audit.AppendAsync(connection, transaction, new AuditEntry(actor.Name, actor.Roles, "subject.revoked",
            SubjectId: subjectId, Program: program.Key, Detail: $"{kind} of {(categoryKey is null ? "the whole program" : "category " + categoryKey)}"));
        await transaction.CommitAsync(cancellationToken);
        return new Revocation { Id = id, SubjectId = subjectId, ProgramId = program.Id, CategoryId = categoryId, Kind = kind, CreatedAt = now };
    }
}
