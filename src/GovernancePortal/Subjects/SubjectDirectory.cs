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
        id AS Id, external_id AS ExternalId, email AS Email, display_name AS DisplayName,
        created_at AS CreatedAt, last_sign_in_at AS LastSignInAt
        """;

    private const string ByExternalId = $"SELECT {Columns} FROM subjects WHERE external_id = @ExternalId";
    private const string ByEmail = $"SELECT {Columns} FROM subjects WHERE email = @Email";
    private const string ById = $"SELECT {Columns} FROM subjects WHERE id = @Id";

    private const string UpdateSignIn = """
        UPDATE subjects SET external_id = @ExternalId, email = @Email, display_name = @DisplayName, last_sign_in_at = @Now
        WHERE id = @Id
        """;

    private const string Insert = """
        INSERT INTO subjects (external_id, email, display_name, created_at, last_sign_in_at)
        VALUES (@ExternalId, @Email, @DisplayName, @Now, @LastSignInAt)
        RETURNING id
        """;

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>Creates or updates the subject of a signed-in person and returns it.</summary>
    public async Task<Subject> RecordSignInAsync(SignedInPerson person, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(person.ExternalId))
            throw new SubjectProblem("The identity provider sent no subject identifier.");
        if (string.IsNullOrWhiteSpace(person.Email))
            throw new SubjectProblem("The identity provider sent no email address; the portal needs one to find your data.");

        var email = NormalizeEmail(person.Email);
        var name = string.IsNullOrWhiteSpace(person.DisplayName) ? email : person.DisplayName.Trim();
        var now = time.GetUtcNow();

        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection, cancellationToken);
        var existing = await connection.QuerySingleOrDefaultAsync<Subject>(ByExternalId, new { person.ExternalId }, transaction)
            ?? await connection.QuerySingleOrDefaultAsync<Subject>(ByEmail, new { Email = email }, transaction);

        long id;
        if (existing is null)
        {
            id = await connection.ExecuteScalarAsync<long>(Insert,
                new { person.ExternalId, Email = email, DisplayName = name, Now = now, LastSignInAt = (DateTimeOffset?)now }, transaction);
        }
        else
        {
            if (existing.ExternalId is not null && existing.ExternalId != person.ExternalId)
                throw new SubjectProblem("This email address belongs to another account at the identity provider.");
            var emailOwner = existing.Email == email ? null
                : await connection.QuerySingleOrDefaultAsync<Subject>(ByEmail, new { Email = email }, transaction);
            if (emailOwner is not null)
                throw new SubjectProblem("Your new email address is already held by another subject; ask a privacy officer to merge them.");
            id = existing.Id;
            await connection.ExecuteAsync(UpdateSignIn, new { Id = id, person.ExternalId, Email = email, DisplayName = name, Now = now }, transaction);
        }
        var subject = await connection.QuerySingleAsync<Subject>(ById, new { Id = id }, transaction);
        await transaction.CommitAsync(cancellationToken);
        return subject;
    }

    private const string IdColumns = "SELECT id AS Id, email AS Email, external_id AS ExternalId FROM subjects";

    private const string InsertIfAbsent = """
        INSERT INTO subjects (external_id, email, display_name, created_at)
        VALUES (@ExternalId, @Email, @DisplayName, @Now)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>The key a collector's subject reference is matched by: a lower-cased email, or the identity provider's id as given.</summary>
    public static string ReferenceKey(string reference)
    {
        var trimmed = reference.Trim();
        return trimmed.Contains('@') ? NormalizeEmail(trimmed) : trimmed;
    }

    /// <summary>
    /// Finds or creates the subjects collectors name: by email address, or otherwise by the identity
    /// provider's subject id. A subject created here is linked when that person first signs in.
    /// Call inside the caller's write transaction; returns ids by <see cref="ReferenceKey"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> EnsureByReferencesAsync(DbConnection connection, DbTransaction transaction, IEnumerable<string> references)
    {
        var keys = references.Select(ReferenceKey).ToHashSet(StringComparer.Ordinal);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await ReadAsync();
        // Inserted in one fixed order, so two batches naming the same new people cannot deadlock on PostgreSQL.
        var missing = keys.Where(key => !ids.ContainsKey(key)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
            return ids;
        var now = StoredTime.Normalize(time.GetUtcNow());
        foreach (var key in missing)
        {
            var isEmail = key.Contains('@');
            await connection.ExecuteAsync(InsertIfAbsent, new
            {
                ExternalId = isEmail ? null : key,
                Email = isEmail ? key : null,
                DisplayName = key,
                Now = now,
            }, transaction);
        }
        await ReadAsync();
        return ids;

        async Task ReadAsync()
        {
            var emails = keys.Where(key => key.Contains('@') && !ids.ContainsKey(key)).ToArray();
            var externalIds = keys.Where(key => !key.Contains('@') && !ids.ContainsKey(key)).ToArray();
            if (emails.Length > 0)
                foreach (var row in await connection.QueryAsync<Subject>($"{IdColumns} WHERE email {connections.Dialect.AnyOf("@Emails")}", new { Emails = connections.Dialect.List(emails) }, transaction))
                    ids[row.Email!] = row.Id;
            if (externalIds.Length > 0)
                foreach (var row in await connection.QueryAsync<Subject>($"{IdColumns} WHERE external_id {connections.Dialect.AnyOf("@ExternalIds")}", new { ExternalIds = connections.Dialect.List(externalIds) }, transaction))
                    ids[row.ExternalId!] = row.Id;
        }
    }

    public async Task<Subject?> FindByExternalIdAsync(string externalId, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Subject>(ByExternalId, new { ExternalId = externalId });
    }
}

/// <summary>A sign-in that cannot be matched to a subject safely; the message is shown to the person.</summary>
public sealed class SubjectProblem(string message) : Exception(message);
