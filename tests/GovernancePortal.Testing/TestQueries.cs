using System.Data.Common;
using Dapper;
using GovernancePortal.Data;
using Microsoft.Extensions.DependencyInjection;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Subjects;

namespace GovernancePortal.Testing;

/// <summary>What the tests read back to check the product's effects; the product itself never asks these questions.</summary>
public static class TestQueries
{
    private const string SubjectColumns = """
        SELECT id AS Id, external_id AS ExternalId, external_issuer AS ExternalIssuer, email AS Email, display_name AS DisplayName,
               created_at AS CreatedAt, last_sign_in_at AS LastSignInAt
        FROM subjects
        """;

    public static async Task<Subject?> SubjectByExternalIdAsync(this IServiceProvider services, string externalId)
    {
        await using var connection = await services.GetRequiredService<ConnectionFactory>().OpenAsync();
        return await connection.QuerySingleOrDefaultAsync<Subject>($"{SubjectColumns} WHERE external_id = @ExternalId", new { ExternalId = externalId });
    }

    public static async Task<Subject?> SubjectByIdAsync(this IServiceProvider services, long id)
    {
        await using var connection = await services.GetRequiredService<ConnectionFactory>().OpenAsync();
        return await connection.QuerySingleOrDefaultAsync<Subject>($"{SubjectColumns} WHERE id = @Id", new { Id = id });
    }

    /// <summary>Every audit event, in order of seq.</summary>
    public static async Task<IReadOnlyList<AuditEvent>> AuditEventsAsync(this DbConnection connection, long from = 1, long to = long.MaxValue) =>
        (await connection.QueryAsync<AuditEvent>("""
            SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
                   subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
                   record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
            FROM audit_events WHERE seq >= @From AND seq <= @To ORDER BY seq
            """, new { From = from, To = to })).ToList();

    /// <summary>The subject's newest records in a program, opened as the person sees them (null payload once its key is destroyed).</summary>
    public static async Task<IReadOnlyList<OpenedRecord>> NewestRecordsAsync(this IServiceProvider services, long subjectId, long programId, int limit = 1000)
    {
        await using var connection = await services.GetRequiredService<ConnectionFactory>().OpenAsync();
        var rows = (await connection.QueryAsync<SealedRecord>("""
            SELECT id AS Id, program_id AS ProgramId, category_id AS CategoryId, subject_id AS SubjectId, data_key_id AS DataKeyId,
                   captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
            FROM records WHERE subject_id = @SubjectId AND program_id = @ProgramId
            ORDER BY captured_at DESC, id DESC LIMIT @Limit
            """, new { SubjectId = subjectId, ProgramId = programId, Limit = limit })).ToList();
        var liveKeys = await services.GetRequiredService<DataKeyStore>().GetManyAsync(connection, rows.Select(r => r.DataKeyId));
        return rows.Select(row => new OpenedRecord(row.Id, row.ProgramId, row.CategoryId, row.SubjectId, row.CapturedAt, row.ReceivedAt,
            liveKeys.TryGetValue(row.DataKeyId, out var key) ? row.Open(key) : null)).ToList();
    }

    /// <summary>The subject's revocations still in force.</summary>
    public static async Task<IReadOnlyList<Revocation>> ActiveRevocationsAsync(this IServiceProvider services, long subjectId)
    {
        await using var connection = await services.GetRequiredService<ConnectionFactory>().OpenAsync();
        return (await connection.QueryAsync<Revocation>("""
            SELECT id AS Id, subject_id AS SubjectId, program_id AS ProgramId, category_id AS CategoryId, kind AS Kind,
                   created_at AS CreatedAt, withdrawn_at AS WithdrawnAt
            FROM revocations WHERE subject_id = @SubjectId AND withdrawn_at IS NULL
            """, new { SubjectId = subjectId })).ToList();
    }
}
