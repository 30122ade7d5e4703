using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Subjects;

/// <summary>What one category of one program holds about a subject.</summary>
public sealed record CategoryHoldings(DataCategory Category, long RecordCount, DateTimeOffset? FirstCapturedAt, DateTimeOffset? LastCapturedAt);

/// <summary>A program that collects about a subject, with what each of its categories holds.</summary>
public sealed record ProgramHoldings(MonitoringProgram Program, IReadOnlyList<CategoryHoldings> Categories)
{
    public long RecordCount => Categories.Sum(c => c.RecordCount);
}

/// <summary>The subject's own view of what is held about them. The subject id always comes from the sign-in, never the client.</summary>
public sealed class MyDataSummary(ConnectionFactory connections)
{
    private const string CountsBySubject = """
        SELECT program_id AS ProgramId, category_id AS CategoryId, count(*) AS RecordCount,
               min(captured_at) AS FirstCapturedAt, max(captured_at) AS LastCapturedAt
        FROM records
        WHERE subject_id = @SubjectId
        GROUP BY program_id, category_id
        """;

    public async Task<IReadOnlyList<ProgramHoldings>> ForSubjectAsync(long subjectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var counts = (await connection.QueryAsync<CountRow>(CountsBySubject, new { SubjectId = subjectId })).ToDictionary(row => row.CategoryId);
        var programs = await ProgramRegister.ListAsync(connection);
        return programs
            .Where(program => program.Categories.Any(category => counts.ContainsKey(category.Id)))
            .Select(program => new ProgramHoldings(program, program.Categories
                .Select(category => counts.TryGetValue(category.Id, out var row)
                    ? new CategoryHoldings(category, row.RecordCount, row.FirstCapturedAt, row.LastCapturedAt)
                    : new CategoryHoldings(category, 0, null, null))
                .ToList()))
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
}
