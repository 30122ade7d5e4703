using System.Security.Cryptography;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Grants;

/// <summary>What narrows a read under a grant; null or empty does not filter. Categories must be the grant's.</summary>
public sealed record GrantReadFilter(IReadOnlyCollection<string>? Categories = null, string? Person = null, DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    public const int MaxPersonLength = 320;
}

/// <summary>One record read under a grant, its payload opened: <see cref="Json"/> is null unless <see cref="State"/> is Open.</summary>
public sealed record GrantRecord(long Id, long SubjectId, string Person, string CategoryKey, DateTimeOffset CapturedAt, PayloadState State, string? Json, string Preview);

/// <summary>A page of records read under a grant; <see cref="PausedCategories"/> are the asked-for ones left out because they are paused.</summary>
public sealed record GrantReadPage(GrantSummary Grant, IReadOnlyList<GrantRecord> Records, int Offset, int Limit, bool HasMore, IReadOnlyList<string> PausedCategories);

/// <summary>The grant does not allow a read now; the message says why (ended, expired, paused…), for the person reading.</summary>
public sealed class GrantStopped(string message) : Exception(message);

/// <summary>
/// Reads a program's records under a grant. Everything that can stop a read is checked inside the read's
/// own transaction, under locks that conflict with whatever changes it: the grant's row (an officer ending
/// it), the program's row (a pause of it or of a category) and the page's people (a withdrawal or an
/// objection). The page's audit events, one per person on it, are written in that same transaction before
/// anything is returned: if they cannot be written, nothing is read.
/// </summary>
public sealed class GrantReader(ConnectionFactory connections, ProgramQueries programs, DataKeyStore keys, AuditLog audit, TimeProvider time)
{
    public const int MaxPageSize = 100;
    public const int MaxOffset = 1_000_000;

    private static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string GrantOfHolder = $"{GrantQueries.Columns} WHERE g.id = @Id AND g.principal_kind = 'user' AND g.principal_subject_id = @SubjectId";

    private const string GrantedCategories = "SELECT category_id FROM grant_categories WHERE grant_id = @Id";

    private const string SubjectByEmail = "SELECT id FROM subjects WHERE email = @Email";

    // A person's withdrawal or objection in force hides their records of its scope, whenever captured and
    // whether erased or not; a withdrawal they have since re-joined from still hides what was captured before it
    // (its erasure request stands).
    private const string PageIds = $"""
        SELECT x.id FROM records x
        WHERE x.program_id = @ProgramId AND x.category_id IN (SELECT category_id FROM grant_categories WHERE grant_id = @GrantId)
          AND x.captured_at >= @From AND x.captured_at < @To
          AND NOT EXISTS (SELECT 1 FROM revocations v
                          WHERE v.subject_id = x.subject_id AND v.program_id = x.program_id
                            AND (v.category_id IS NULL OR v.category_id = x.category_id)
                            AND (v.withdrawn_at IS NULL OR (v.kind = '{RevocationKind.Withdrawal}' AND x.captured_at < v.created_at)))
        """;

    private const string OfPerson = " AND x.subject_id = @SubjectId";

    private const string PageOrder = " ORDER BY x.captured_at DESC, x.id DESC LIMIT @Limit OFFSET @Offset";

    private const string PageRows = """
        SELECT r.id AS Id, r.program_id AS ProgramId, r.category_id AS CategoryId, r.subject_id AS SubjectId, r.data_key_id AS DataKeyId,
               r.captured_at AS CapturedAt, r.received_at AS ReceivedAt, r.nonce AS Nonce, r.payload AS Payload
        FROM records r
        """;

    /// <summary>
    /// One page of records under <paramref name="grantId"/>, held by <paramref name="actor"/>, in the program
    /// <paramref name="programKey"/>: newest captured first, at most <see cref="MaxPageSize"/>. Another person's
    /// grant, or a grant of another program, is <see cref="NotFoundProblem"/>; a grant that does not allow a read
    /// now is <see cref="GrantStopped"/>; a category outside the grant is a <see cref="RuleViolation"/>.
    /// </summary>
    public async Task<GrantReadPage> ReadAsync(string programKey, long grantId, GrantReadFilter filter, int offset, int limit, Actor actor,
        CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.DataConsumer, "Only data consumers read records under a grant.");
        var self = actor.SubjectId ?? throw new NotFoundProblem("There is no such grant.");
        offset = Math.Clamp(offset, 0, MaxOffset);
        limit = Math.Clamp(limit, 1, MaxPageSize);
        var person = filter.Person?.Trim();
        if (person?.Length > GrantReadFilter.MaxPersonLength)
            throw new RuleViolation($"A person is an email address of at most {GrantReadFilter.MaxPersonLength} characters.", "person");

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var dialect = scope.Dialect;
        // The state checks must stay inside this transaction, under these locks: they are what make an early
        // end, a pause and a revocation stop reads at their commit. Ending a grant locks its row FOR UPDATE; a
        // pause updates the program row; a revocation locks the subject row FOR UPDATE.
        // Each share lock is taken behind its fair gate, so a switch waiting for it is not starved by later reads.
        await scope.GateAsync(Gate.Grant, GateMode.Shared, grantId);
        var grant = await scope.QuerySingleOrDefaultAsync<GrantSummary>($"{GrantOfHolder} {ShareOf(dialect, "g")}", new { Id = grantId, SubjectId = self });
        if (grant is null || grant.ProgramKey != programKey)
            throw new NotFoundProblem("There is no such grant.");
        var program = await programs.RequireAsync(scope, programKey, RowLock.Share);
        var granted = (await scope.QueryAsync<long>(GrantedCategories, new { Id = grantId })).ToHashSet();
        var now = StoredTime.Normalize(time.GetUtcNow());
        var (stop, _) = Check(grant, program, granted, now);
        if (stop is not null)
            throw new GrantStopped(stop);

        var grantedCategories = program.Categories.Where(c => granted.Contains(c.Id)).ToList();
        var asked = grantedCategories;
        if (filter.Categories is { Count: > 0 } wanted)
        {
            var outside = wanted.Where(key => grantedCategories.All(c => c.Key != key)).ToList();
            if (outside.Count > 0)
                throw new RuleViolation($"The grant does not cover {string.Join(", ", outside)}.", "categories");
            asked = grantedCategories.Where(c => wanted.Contains(c.Key)).ToList();
        }
        var paused = asked.Where(c => c.Paused || c.RetiredAt is not null).Select(c => c.Key).ToList();
        var readable = asked.Where(c => !c.Paused && c.RetiredAt is null).ToList();
        if (readable.Count == 0)
            throw new GrantStopped($"Reading stopped: {string.Join(", ", paused)} {(paused.Count == 1 ? "is" : "are")} paused by a privacy officer.");

        long subjectFilter = 0;
        if (!string.IsNullOrEmpty(person))
        {
            subjectFilter = await scope.ExecuteScalarAsync<long?>(SubjectByEmail, new { Email = SubjectDirectory.NormalizeEmail(person) }) ?? -1;
            if (subjectFilter < 0)
                return await EmptyAsync(scope, grant, offset, limit, paused);
        }

        var readableIds = readable.Select(c => c.Id).ToArray();
        var sql = $"{PageRows} WHERE r.id IN ({PageIds} AND x.category_id {dialect.AnyOf("@Readable")}{(subjectFilter > 0 ? OfPerson : "")}{PageOrder}) ORDER BY r.captured_at DESC, r.id DESC";
        var parameters = new
        {
            ProgramId = program.Id, GrantId = grantId, Readable = dialect.List(readableIds), SubjectId = subjectFilter,
            From = filter.From ?? Earliest, To = filter.To ?? Latest, Limit = limit + 1, Offset = offset,
        };
        var rows = await scope.QueryAsync<SealedRecord>(sql, parameters);
        var people = new Dictionary<long, string>();
        // On PostgreSQL the page's people are locked FOR SHARE and the page read again until every person on it
        // is locked: a revocation that committed before a lock is seen by the next read; one after it waits for this commit.
        for (var round = 0; ; round++)
        {
            var missing = rows.Select(r => r.SubjectId).Distinct().Where(id => !people.ContainsKey(id)).ToArray();
            if (missing.Length == 0)
                break;
            if (round == 20)
                throw new InvalidOperationException("The page's people kept changing while they were locked.");
            await scope.GateAsync(Gate.Subject, GateMode.Shared, missing);
            foreach (var found in await scope.QueryAsync<PersonRow>(
                         $"SELECT id AS Id, coalesce(email, external_id) AS Person FROM subjects WHERE id {dialect.AnyOf("@Ids")} {dialect.ForShare}",
                         new { Ids = dialect.List(missing) }))
                people[found.Id] = found.Person;
            if (dialect.ForShare.Length == 0)
                break;
            rows = await scope.QueryAsync<SealedRecord>(sql, parameters);
        }

        var page = rows.Take(limit).ToList();
        var liveKeys = await keys.GetManyAsync(scope.Connection, page.Select(r => r.DataKeyId).Distinct(), scope.Transaction);
        var categoryKeys = program.Categories.ToDictionary(c => c.Id, c => c.Key);
        // One event per person on the page, all appended in one round trip.
        await audit.AppendManyAsync(scope, page.GroupBy(r => r.SubjectId).OrderBy(g => g.Key).Select(read => new AuditEntry(
            actor.Name, actor.Roles, AuditActions.RecordsRead, SubjectId: read.Key, Program: program.Key, Purpose: grant.Purpose,
            Detail: new RecordAccessDetail(read.Select(r => categoryKeys[r.CategoryId]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), grantId).Write(),
            RecordCount: read.Count())).ToList());
        await scope.CommitAsync();

        // Opened only once the reads are logged, and only the page's.
        var records = page.Select(row => Open(row, people[row.SubjectId], categoryKeys[row.CategoryId], liveKeys)).ToList();
        return new GrantReadPage(grant, records, offset, limit, rows.Count > limit, paused);
    }

    /// <summary>
    /// Whether the grant allows a read now, without reading anything (an open page asks this every minute):
    /// null when it does, else why not. Another person's grant, or another program's, is <see cref="NotFoundProblem"/>.
    /// </summary>
    public async Task<string?> StopReasonAsync(string programKey, long grantId, Actor actor, CancellationToken cancellationToken = default)
    {
        var self = actor.SubjectId ?? throw new NotFoundProblem("There is no such grant.");
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var grant = await scope.QuerySingleOrDefaultAsync<GrantSummary>(GrantOfHolder, new { Id = grantId, SubjectId = self });
        if (grant is null || grant.ProgramKey != programKey || !actor.IsIn(Roles.DataConsumer))
            throw new NotFoundProblem("There is no such grant.");
        var program = await programs.RequireAsync(scope, programKey);
        var granted = (await scope.QueryAsync<long>(GrantedCategories, new { Id = grantId })).ToHashSet();
        var (stop, allPaused) = Check(grant, program, granted, StoredTime.Normalize(time.GetUtcNow()));
        return stop ?? (allPaused ? "Reading stopped: every category of this grant is paused by a privacy officer." : null);
    }

    private static (string? Stop, bool AllPaused) Check(GrantSummary grant, MonitoringProgram program, IReadOnlySet<long> granted, DateTimeOffset now)
    {
        var stop = grant.StatusAt(now) switch
        {
            GrantStatus.Revoked => $"Reading stopped: a privacy officer ended this grant on {grant.RevokedAt:d MMM yyyy HH:mm} UTC. {grant.EndReason}".TrimEnd(),
            GrantStatus.Expired => $"Reading stopped: this grant ended on {grant.ExpiresAt:d MMM yyyy HH:mm} UTC.",
            GrantStatus.Denied => "This grant was denied; nothing can be read under it.",
            GrantStatus.Pending => "This grant is not approved yet; nothing can be read under it.",
            _ => program.State switch
            {
                ProgramState.Paused => "Reading stopped: the program is paused by a privacy officer.",
                ProgramState.Retired => "Reading stopped: the program is retired.",
                _ => null,
            },
        };
        var allPaused = program.Categories.Where(c => granted.Contains(c.Id)).All(c => c.Paused || c.RetiredAt is not null);
        return (stop, allPaused);
    }

    private static async Task<GrantReadPage> EmptyAsync(WriteScope scope, GrantSummary grant, int offset, int limit, IReadOnlyList<string> paused)
    {
        await scope.CommitAsync();
        return new GrantReadPage(grant, [], offset, limit, false, paused);
    }

    private static string ShareOf(SqlDialect dialect, string table) => dialect.ForShare.Length == 0 ? "" : $"{dialect.ForShare} OF {table}";

    private static GrantRecord Open(SealedRecord row, string person, string category, IReadOnlyDictionary<long, DataKey> liveKeys)
    {
        if (!liveKeys.TryGetValue(row.DataKeyId, out var key))
            return new GrantRecord(row.Id, row.SubjectId, person, category, row.CapturedAt, PayloadState.Erased, null, "Erased: its key was destroyed, so nobody can read it any more.");
        try
        {
            var (preview, json) = MyRecords.Describe(row.Open(key));
            return new GrantRecord(row.Id, row.SubjectId, person, category, row.CapturedAt, PayloadState.Open, json, preview);
        }
        catch (CryptographicException)
        {
            return new GrantRecord(row.Id, row.SubjectId, person, category, row.CapturedAt, PayloadState.Unreadable, null, "Unreadable: this record fails its integrity check.");
        }
    }

    private sealed record PersonRow
    {
        public long Id { get; init; }
        public string Person { get; init; } = "";
    }
}
