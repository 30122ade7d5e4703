using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Access;

/// <summary>
/// The portal roles each person held when they last signed in. Roles come from the identity provider at
/// sign-in and live in the session; this roster is what the portal knows about people who are not signed
/// in now, so that a grant nobody could approve is refused when it is asked for, not left waiting.
/// </summary>
public sealed class RoleRoster(ConnectionFactory connections, TimeProvider time)
{
    private const string Forget = "DELETE FROM subject_roles WHERE subject_id = @SubjectId";

    private const string Remember = "INSERT INTO subject_roles (subject_id, role, seen_at) VALUES (@SubjectId, @Role, @Now)";

    private const string OthersInRole = "SELECT count(*) FROM subject_roles WHERE role = @Role AND subject_id <> @SubjectId";

    /// <summary>Replaces the person's roles with those of this sign-in.</summary>
    public async Task RecordAsync(long subjectId, IEnumerable<string> roles, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await RecordAsync(scope, subjectId, roles);
        await scope.CommitAsync();
    }

    public async Task RecordAsync(WriteScope scope, long subjectId, IEnumerable<string> roles)
    {
        var now = StoredTime.Normalize(time.GetUtcNow());
        await scope.ExecuteAsync(Forget, new { SubjectId = subjectId });
        foreach (var role in roles.Distinct(StringComparer.Ordinal))
            await scope.ExecuteAsync(Remember, new { SubjectId = subjectId, Role = role, Now = now });
    }

    /// <summary>How many people other than <paramref name="subjectId"/> last signed in holding <paramref name="role"/>.</summary>
    public Task<long> CountOthersAsync(WriteScope scope, string role, long subjectId) =>
        scope.ExecuteScalarAsync<long>(OthersInRole, new { Role = role, SubjectId = subjectId });
}
