using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Subjects;

/// <summary>What one category of one program holds about a subject.</summary>
public sealed record CategoryHoldings(DataCategory Category, long RecordCount, DateTimeOffset? FirstCapturedAt, DateTimeOffset? LastCapturedAt, bool RevokedByMe = false)
{
    /// <summary>When the retention sweep deletes the oldest record, if there is one.</summary>
    public DateTimeOffset? OldestDeletedAt => FirstCapturedAt?.AddDays(Category.RetentionDays);

    /// <summary>
    /// Whether the person's pages show this category: one that holds records about them, that they stopped,
    /// or that still collects. A retired category with nothing of theirs is not news to them.
    /// </summary>
    public bool IsShown => RecordCount > 0 || RevokedByMe || Category.RetiredAt is null;
}

/// <summary>A program that collects about a subject, with what each of its categories holds.</summary>
public sealed record ProgramHoldings(MonitoringProgram Program, IReadOnlyList<CategoryHoldings> Categories, bool RevokedByMe = false, IReadOnlyList<string>? LegalHolds = null)
{
    public IReadOnlyList<string> Holds => LegalHolds ?? [];

    public long RecordCount => Categories.Sum(c => c.RecordCount);

    /// <summary>The person's number of records in each category, by category id: what <see cref="MyRecords.PageAsync"/> takes as known counts.</summary>
    public IReadOnlyDictionary<long, long> RecordCounts => Categories.ToDictionary(c => c.Category.Id, c => c.RecordCount);

    public DateTimeOffset? LastCapturedAt => Categories.Max(c => c.LastCapturedAt);

    /// <summary>The categories the person's pages list (<see cref="CategoryHoldings.IsShown"/>).</summary>
    public IReadOnlyList<CategoryHoldings> ShownCategories => Categories.Where(c => c.IsShown).ToList();
}

/// <summary>The subject's own view of what is held about them. The subject id always comes from the sign-in, never the client.</summary>
public sealed class MyDataSummary(ConnectionFactory connections, ProgramQueries register)
{
    private const string CountsBySubject = """
        SELECT program_id AS ProgramId, category_id AS CategoryId, count(*) AS RecordCount,
               min(captured_at) AS FirstCapturedAt, max(captured_at) AS LastCapturedAt
        FROM records
        WHERE subject_id = @SubjectId
        GROUP BY program_id, category_id
        """;

    private const string CountsBySubjectInProgram = """
        SELECT program_id AS ProgramId, category_id AS CategoryId, count(*) AS RecordCount,
               min(captured_at) AS FirstCapturedAt, max(captured_at) AS LastCapturedAt
        FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId
        GROUP BY program_id, category_id
        """;

    private const string MyRevocations = """
        SELECT program_id AS ProgramId, category_id AS CategoryId FROM revocations WHERE subject_id = @SubjectId AND withdrawn_at IS NULL
        """;

    private const string MyHolds = """
        SELECT program_id AS ProgramId, notice AS Reason FROM legal_holds
        WHERE released_at IS NULL AND (subject_id = @SubjectId OR subject_id IS NULL)
        """;

    /// <summary>
    /// Every program that holds records about the subject or that they revoked, with counts, first and
    /// last capture per category, their revocations and the legal holds that apply.
    /// </summary>
    public Task<IReadOnlyList<ProgramHoldings>> ForSubjectAsync(long subjectId, CancellationToken cancellationToken = default) =>
        HoldingsAsync(subjectId, null, cancellationToken);

    /// <summary>The subject's holdings in one program (counting only its records), or null when it holds nothing about them and they revoked nothing there.</summary>
    public async Task<ProgramHoldings?> ForProgramAsync(long subjectId, string programKey, CancellationToken cancellationToken = default) =>
        (await HoldingsAsync(subjectId, programKey, cancellationToken)).SingleOrDefault();

    private async Task<IReadOnlyList<ProgramHoldings>> HoldingsAsync(long subjectId, string? programKey, CancellationToken cancellationToken)
    {
        // One program when the page is about one, the register when it is about all of them.
        var programs = programKey is null ? await register.ListAsync(cancellationToken)
            : await register.GetAsync(programKey, cancellationToken) is { } one ? [one] : [];
        await using var connection = await connections.OpenAsync(cancellationToken);
        if (programs.Count == 0)
            return [];
        var counts = (await connection.QueryAsync<CountRow>(new CommandDefinition(programKey is null ? CountsBySubject : CountsBySubjectInProgram,
            new { SubjectId = subjectId, ProgramId = programs[0].Id }, cancellationToken: cancellationToken))).ToDictionary(row => row.CategoryId);
        var revoked = (await connection.QueryAsync<RevocationRow>(new CommandDefinition(MyRevocations, new { SubjectId = subjectId }, cancellationToken: cancellationToken))).ToList();
        var holds = (await connection.QueryAsync<HoldRow>(new CommandDefinition(MyHolds, new { SubjectId = subjectId }, cancellationToken: cancellationToken))).ToList();
        return programs
            .Where(program => program.Categories.Any(category => counts.ContainsKey(category.Id)) || revoked.Any(r => r.ProgramId == program.Id))
            .Select(program =>
            {
                var wholeRevoked = revoked.Any(r => r.ProgramId == program.Id && r.CategoryId is null);
                var categories = program.Categories
                    .Select(category =>
                    {
                        var mine = wholeRevoked || revoked.Any(r => r.CategoryId == category.Id);
                        return counts.TryGetValue(category.Id, out var row)
                            ? new CategoryHoldings(category, row.RecordCount, row.FirstCapturedAt, row.LastCapturedAt, mine)
                            : new CategoryHoldings(category, 0, null, null, mine);
                    })
                    .ToList();
                var programHolds = holds.Where(h => h.ProgramId is null || h.ProgramId == program.Id).Select(h => h.Reason).ToList();
                return new ProgramHoldings(program, categories, wholeRevoked, programHolds);
            })
            .ToList();
    }

    private sealed record CountRow
    {
        public long ProgramId { get; init; }
        public long CategoryId { get; init; }
        public long RecordCount { get; init; }
        public DateTimeOffset? FirstCapturedAt { get; init; }
        public DateTimeOffset? LastCapturedAt { get; init; }
    }

    private sealed record RevocationRow
    {
        public long ProgramId { get; init; }
        public long? CategoryId { get; init; }
    }

    private sealed record HoldRow
    {
        public long? ProgramId { get; init; }
        public string Reason { get; init; } = "";
    }
}
