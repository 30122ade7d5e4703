using System.Data.Common;
using Dapper;
using GovernancePortal.Data;
using Microsoft.Extensions.DependencyInjection;
using GovernancePortal.Audit;
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
}
