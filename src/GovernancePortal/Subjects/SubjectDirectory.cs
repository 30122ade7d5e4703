using System.Data.Common;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Subjects;

/// <summary>
/// Subjects are the people data is collected about. Everyone who signs in is one; a subject first
/// seen by a collector (by email) is linked to its identity-provider id at that person's first sign-in.
/// </summary>
public sealed class SubjectDirectory(ConnectionFactory connections, TimeProvider time)
{
    private const string Columns = """
        id AS Id, external_id AS ExternalId, external_issuer AS ExternalIssuer, email AS Email, display_name AS DisplayName,
        created_at AS CreatedAt, last_sign_in_at AS LastSignInAt
        """;

    private const string ByExternalId = $"SELECT {Columns} FROM subjects WHERE external_id = @ExternalId";
    private const string ByEmail = $"SELECT {Columns} FROM subjects WHERE email = @Email";
    private const string ById = $"SELECT {Columns} FROM subjects WHERE id = @Id";

    private const string UpdateSignIn = """
        UPDATE subjects
        SET external_id = @ExternalId, external_issuer = @Issuer, email = @Email, display_name = @DisplayName, last_sign_in_at = @Now
        WHERE id = @Id
        """;

    private const string Insert = """
        INSERT INTO subjects (external_id, external_issuer, email, display_name, created_at, last_sign_in_at)
        VALUES (@ExternalId, @Issuer, @Email, @DisplayName, @Now, @Now)
        RETURNING id
        """;

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>
    /// Creates, links or updates the subject of a signed-in person and returns it, or refuses with a
    /// <see cref="SubjectProblem"/>. A provider identity is issuer plus subject id. An email address is
    /// trusted only when verified: it links an unlinked subject (one a collector or the demo data
    /// created), starts a new one, or replaces a subject's address, and never one that another subject holds.
    /// </summary>
    public async Task<Subject> RecordSignInAsync(SignedInPerson person, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(person.ExternalId))
            throw new SubjectProblem(SignInRefusal.NoSubjectId);
        if (string.IsNullOrWhiteSpace(person.Email))
            throw new SubjectProblem(SignInRefusal.NoEmail);

        var email = NormalizeEmail(person.Email);
        var name = string.IsNullOrWhiteSpace(person.DisplayName) ? email : person.DisplayName.Trim();
        var now = time.GetUtcNow();

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var linked = await scope.QuerySingleOrDefaultAsync<Subject>(ByExternalId, new { person.ExternalId });
        long id;
        if (linked is not null)
        {
            // A subject a collector named by subject id has no issuer yet; the first sign-in sets it.
            if (linked.ExternalIssuer is not null && linked.ExternalIssuer != person.Issuer)
                throw new SubjectProblem(SignInRefusal.IdentityFromAnotherProvider);
            var keptEmail = linked.Email;
            if (linked.Email != email && person.EmailVerified)
            {
                if (await scope.QuerySingleOrDefaultAsync<Subject>(ByEmail, new { Email = email }) is not null)
                    throw new SubjectProblem(SignInRefusal.EmailHeldByAnotherSubject);
                keptEmail = email;
            }
            id = linked.Id;
            await scope.ExecuteAsync(UpdateSignIn,
                new { Id = id, person.ExternalId, person.Issuer, Email = keptEmail, DisplayName = name, Now = now });
        }
        else
        {
            var byEmail = await scope.QuerySingleOrDefaultAsync<Subject>(ByEmail, new { Email = email });
            if (byEmail?.ExternalId is not null)
                throw new SubjectProblem(SignInRefusal.EmailBelongsToAnotherAccount);
            if (!person.EmailVerified)
                throw new SubjectProblem(SignInRefusal.EmailUnverified);
            if (byEmail is null)
            {
                id = await scope.ExecuteScalarAsync<long>(Insert,
                    new { person.ExternalId, person.Issuer, Email = email, DisplayName = name, Now = now });
            }
            else
            {
                id = byEmail.Id;
                await scope.ExecuteAsync(UpdateSignIn,
                    new { Id = id, person.ExternalId, person.Issuer, Email = email, DisplayName = name, Now = now });
            }
        }
        var subject = await scope.QuerySingleAsync<Subject>(ById, new { Id = id });
        await scope.CommitAsync();
        return subject;
    }

    private const string IdColumns = "SELECT id AS Id, email AS Email, external_id AS ExternalId FROM subjects";

    private const string InsertIfAbsent = "INSERT INTO subjects (external_id, email, display_name, created_at)";

    /// <summary>The key a collector's subject reference is matched by: a lower-cased email, or the identity provider's id as given.</summary>
    public static string ReferenceKey(string reference)
    {
        var trimmed = reference.Trim();
        return trimmed.Contains('@') ? NormalizeEmail(trimmed) : trimmed;
    }

    /// <summary>
    /// Finds or creates the subjects collectors name: by email address, or otherwise by the identity
    /// provider's subject id. A subject created here is linked when that person first signs in.
    /// Call inside the caller's write scope; returns ids by <see cref="ReferenceKey"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> EnsureByReferencesAsync(WriteScope scope, IEnumerable<string> references)
    {
        var keys = references.Select(ReferenceKey).ToHashSet(StringComparer.Ordinal);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await ReadAsync();
        // Inserted in one fixed order, so two batches naming the same new people cannot deadlock on PostgreSQL.
        var missing = keys.Where(key => !ids.ContainsKey(key)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
            return ids;
        var now = StoredTime.Normalize(time.GetUtcNow());
        // Many rows to a statement: a collector's first batches name hundreds of new people each.
        await scope.InsertManyAsync(InsertIfAbsent, missing,
            key => key.Contains('@') ? [null, key, key, now] : [key, null, key, now], "ON CONFLICT DO NOTHING");
        await ReadAsync();
        return ids;

        async Task ReadAsync()
        {
            var emails = keys.Where(key => key.Contains('@') && !ids.ContainsKey(key)).ToArray();
            var externalIds = keys.Where(key => !key.Contains('@') && !ids.ContainsKey(key)).ToArray();
            if (emails.Length > 0)
                foreach (var row in await scope.QueryAsync<Subject>($"{IdColumns} WHERE email {scope.Dialect.AnyOf("@Emails")}", new { Emails = scope.Dialect.List(emails) }))
                    ids[row.Email!] = row.Id;
            if (externalIds.Length > 0)
                foreach (var row in await scope.QueryAsync<Subject>($"{IdColumns} WHERE external_id {scope.Dialect.AnyOf("@ExternalIds")}", new { ExternalIds = scope.Dialect.List(externalIds) }))
                    ids[row.ExternalId!] = row.Id;
        }
    }
}
