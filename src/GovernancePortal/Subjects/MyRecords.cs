using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Subjects;

/// <summary>How many records one category captured on one UTC day.</summary>
public sealed record DayCount(DateOnly Day, DataCategory Category, long Count);

public enum PayloadState
{
    Open,

    /// <summary>The scope's data key was destroyed: the payload can never be read again.</summary>
    Erased,

    /// <summary>The payload fails its integrity check: it was altered or moved onto this record.</summary>
    Unreadable,
}

/// <summary>One of the subject's own records, opened for them: <see cref="Json"/> is null unless <see cref="State"/> is Open.</summary>
public sealed record MyRecord(long Id, DataCategory Category, DateTimeOffset CapturedAt, DateTimeOffset ReceivedAt, PayloadState State, string? Json, string Preview);

public sealed record MyRecordsPage(IReadOnlyList<MyRecord> Records, long Total);

/// <summary>
/// A subject's own records in one program, for their detail page. The subject id always comes from the
/// sign-in, never the client; a program key names a program in the public register, and every query is
/// bounded by the subject id first, so another person's key in the URL finds nothing.
/// </summary>
public sealed class MyRecords(ConnectionFactory connections, ProgramQueries programs, DataKeyStore keys, MyDataSummary summary)
{
    public const int PreviewLength = 200;

    // Bounds used when the caller gives none, so the statements keep one shape (and no untyped nulls).
    private static readonly DateTimeOffset Earliest = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The program with what each of its categories holds about the subject; null when it holds no record about
    /// them (or there is no such program). The counts are <see cref="MyDataSummary.ForProgramAsync"/>'s: one query
    /// path and one model for both pages.
    /// </summary>
    public async Task<ProgramHoldings?> ProgramAsync(long subjectId, string programKey, CancellationToken cancellationToken = default) =>
        await summary.ForProgramAsync(subjectId, programKey, cancellationToken) is { RecordCount: > 0 } holding ? holding : null;

    // The day bucket comes from the dialect; the statement is otherwise shared.
    private static string PerDaySql(SqlDialect dialect) => $"""
        SELECT {dialect.UtcDay("captured_at")} AS Day, category_id AS CategoryId, count(*) AS Count
        FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND captured_at >= @From AND captured_at < @To
        GROUP BY 1, 2
        """;

    /// <summary>Records per UTC day and category captured in [<paramref name="from"/>, <paramref name="to"/>); days without records are absent.</summary>
    public async Task<IReadOnlyList<DayCount>> PerDayAsync(long subjectId, string programKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        if (await programs.GetAsync(programKey, cancellationToken) is not { } program)
            return [];
        var categories = program.Categories.ToDictionary(category => category.Id);
        var rows = await connection.QueryAsync<DayRow>(new CommandDefinition(PerDaySql(connections.Dialect),
            new { SubjectId = subjectId, ProgramId = program.Id, From = from, To = to }, cancellationToken: cancellationToken));
        return rows
            .Select(row => new DayCount(DateOnly.FromDayNumber(UnixEpochDay + (int)row.Day), categories[row.CategoryId], row.Count))
            .OrderBy(count => count.Day).ThenBy(count => count.Category.Id)
            .ToList();
    }

    private static readonly int UnixEpochDay = new DateOnly(1970, 1, 1).DayNumber;

    // Paging picks ids from the subject's index alone, then reads just those rows: neither the order nor the
    // offset touches the other records' payloads. On PostgreSQL the index is (subject, program, captured_at, id)
    // INCLUDE (category), so a page at any depth is an index-only walk. SQLite's index is (subject, program,
    // category, captured_at, rowid): the whole program's page merges each category's range of it in order
    // (SQLite's compound-select merge), as deep pages would otherwise sort all of the person's records, and from
    // DeepOffset on starts the merge at a point found category by category (DeepStartAsync).
    private const string PageAll = """
        SELECT id AS Id, category_id AS CategoryId, subject_id AS SubjectId, program_id AS ProgramId, data_key_id AS DataKeyId,
               captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
        FROM records
        WHERE subject_id = @SubjectId AND id IN (
            SELECT id FROM records
            WHERE subject_id = @SubjectId AND program_id = @ProgramId AND captured_at >= @From AND captured_at < @To
            ORDER BY captured_at DESC, id DESC
            LIMIT @Limit OFFSET @Offset)
        ORDER BY captured_at DESC, id DESC
        """;

    private static string PageAllMerged(int categories, bool fromStart) => $"""
        SELECT id AS Id, category_id AS CategoryId, subject_id AS SubjectId, program_id AS ProgramId, data_key_id AS DataKeyId,
               captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
        FROM records
        WHERE subject_id = @SubjectId AND id IN (
            SELECT id FROM (
                {string.Join("\n        UNION ALL\n        ", Enumerable.Range(0, categories).Select(i =>
                    $"SELECT id, captured_at FROM records WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @Category{i} AND captured_at >= @From AND {(fromStart ? AtOrBeforeStart : "captured_at < @To")}"))}
                ORDER BY captured_at DESC, id DESC
                LIMIT @Limit OFFSET @Offset))
        ORDER BY captured_at DESC, id DESC
        """;

    // SQLite, deep in the whole program (DeepStartAsync). Each range is bounded by the points themselves (they lie inside
    // [From, To)), so that SQLite seeks it in the index rather than filtering the whole of [From, To).
    private const string AtOrBeforeStart = "captured_at <= @StartAt AND (captured_at < @StartAt OR id <= @StartId)";

    private static string CountsByCategory(int categories) => string.Join("\nUNION ALL\n", Enumerable.Range(0, categories).Select(i => $"""
        SELECT @Category{i} AS CategoryId, count(*) AS Count FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @Category{i} AND captured_at >= @From AND captured_at < @To
        """));

    private const string PointInCategory = """
        SELECT captured_at AS At, id AS Id FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId AND captured_at >= @From AND captured_at < @To
        ORDER BY captured_at DESC, id DESC
        LIMIT 1 OFFSET @Share
        """;

    private const string CountBetweenPoints = """
        SELECT count(*) FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId
          AND captured_at >= @OwnAt AND (captured_at > @OwnAt OR id > @OwnId)
          AND captured_at <= @StartAt AND (captured_at < @StartAt OR id < @StartId)
        """;

    private const string CountAfterStart = """
        SELECT count(*) FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId
          AND captured_at >= @StartAt AND (captured_at > @StartAt OR id > @StartId) AND captured_at < @To
        """;

    private const string PageInCategory = """
        SELECT id AS Id, category_id AS CategoryId, subject_id AS SubjectId, program_id AS ProgramId, data_key_id AS DataKeyId,
               captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
        FROM records
        WHERE subject_id = @SubjectId AND id IN (
            SELECT id FROM records
            WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId AND captured_at >= @From AND captured_at < @To
            ORDER BY captured_at DESC, id DESC
            LIMIT @Limit OFFSET @Offset)
        ORDER BY captured_at DESC, id DESC
        """;

    private const string CountAll = """
        SELECT count(*) FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND captured_at >= @From AND captured_at < @To
        """;

    private const string CountInCategory = """
        SELECT count(*) FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND category_id = @CategoryId AND captured_at >= @From AND captured_at < @To
        """;

    /// <summary>
    /// One page of the subject's records in a program, newest first, optionally of one category and captured in
    /// [<paramref name="from"/>, <paramref name="to"/>), each payload opened for them, with the total matching the filters.
    /// <paramref name="knownCounts"/>: the person's number of records in each category of the program (by category id),
    /// when the caller has just read them (<see cref="ProgramHoldings"/>); without a time range they stand for the counts,
    /// so a page does not count a person's records a second time (80 ms for a million on PostgreSQL).
    /// </summary>
    public async Task<MyRecordsPage> PageAsync(long subjectId, string programKey, string? categoryKey, DateTimeOffset? from, DateTimeOffset? to,
        int offset, int limit, CancellationToken cancellationToken = default, IReadOnlyDictionary<long, long>? knownCounts = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await connections.OpenAsync(cancellationToken);
        if (await programs.GetAsync(programKey, cancellationToken) is not { } program)
            return new MyRecordsPage([], 0);
        DataCategory? category = null;
        if (!string.IsNullOrEmpty(categoryKey) && (category = program.Categories.FirstOrDefault(c => c.Key == categoryKey)) is null)
            return new MyRecordsPage([], 0);

        var parameters = new DynamicParameters(new
        {
            SubjectId = subjectId,
            ProgramId = program.Id,
            CategoryId = category?.Id ?? 0,
            From = from ?? Earliest,
            To = to ?? Latest,
            Offset = offset,
            Limit = limit,
        });
        var known = from is null && to is null ? knownCounts : null;
        CommandDefinition page;
        long total;
        if (category is not null || connections.Dialect.Provider == DatabaseProvider.Postgres)
        {
            total = known is not null ? (category is null ? known.Values.Sum() : known.GetValueOrDefault(category.Id))
                : await connection.ExecuteScalarAsync<long>(new CommandDefinition(category is null ? CountAll : CountInCategory, parameters, cancellationToken: cancellationToken));
            page = new CommandDefinition(category is null ? PageAll : PageInCategory, parameters, cancellationToken: cancellationToken);
        }
        else
        {
            for (var i = 0; i < program.Categories.Count; i++)
                parameters.Add($"Category{i}", program.Categories[i].Id);
            var counts = program.Categories.Select(c => c.Id).ToDictionary(id => id, id => known?.GetValueOrDefault(id) ?? 0);
            if (known is null)
                foreach (var row in await connection.QueryAsync<CategoryCount>(new CommandDefinition(CountsByCategory(program.Categories.Count), parameters, cancellationToken: cancellationToken)))
                    counts[row.CategoryId] = row.Count;
            total = counts.Values.Sum();
            var start = offset >= DeepOffset && total > offset ? await DeepStartAsync(connection, parameters, counts, total, offset, cancellationToken) : null;
            var fromStart = start is not null;
            if (start is { } found)
            {
                parameters.Add("StartAt", found.At);
                parameters.Add("StartId", found.Id);
                parameters.Add("Offset", found.Skip);
            }
            page = new CommandDefinition(PageAllMerged(program.Categories.Count, fromStart), parameters, cancellationToken: cancellationToken);
        }
        if (total <= offset)
            return new MyRecordsPage([], total);
        var rows = (await connection.QueryAsync<SealedRecord>(page)).ToList();
        var liveKeys = await keys.GetManyAsync(connection, rows.Select(row => row.DataKeyId));
        var categories = program.Categories.ToDictionary(c => c.Id);
        return new MyRecordsPage(rows.Select(row => Open(row, categories[row.CategoryId], liveKeys)).ToList(), total);
    }

    /// <summary>From this offset on, SQLite's page of the whole program starts the merge at a point found category by category.</summary>
    internal const int DeepOffset = 1_000;

    /// <summary>
    /// SQLite, deep in the whole program: where the merge of the categories' ranges starts, and how many entries it still
    /// steps over. The merge costs about four times as much per entry as walking one range, so each category is first
    /// walked alone to its share of the offset (its count's share of the total); the newest of those points is the
    /// start. The entries newer than the start are then exactly: the start's category's share, plus for each other
    /// category its share less its entries between its own point and the start (a short range when the categories
    /// are spread alike over time), or, for a category without a share, its entries after the start. Whatever the
    /// spread, the page is exact; an uneven spread only leaves more for the merge to step over. Counts that are no longer
    /// true (records erased or collected since the holdings were read) change only the shares. There is no start (null),
    /// and the page merges all the way down, when a category no longer holds its share, or when the start turns out to be
    /// past the page (categories without a share held more of the newest entries than the shares left over).
    /// </summary>
    private static async Task<(DateTimeOffset At, long Id, long Skip)?> DeepStartAsync(DbConnection connection, DynamicParameters filter,
        IReadOnlyDictionary<long, long> counts, long total, int offset, CancellationToken cancellationToken)
    {
        var points = new List<CategoryPoint>();
        foreach (var (categoryId, count) in counts)
        {
            // Below the category's count, since offset < total.
            var share = (long)((double)offset * count / total);
            if (share == 0)
                continue;
            if (await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(PointInCategory,
                    With(filter, new { CategoryId = categoryId, Share = share }), cancellationToken: cancellationToken)) is not { } point)
                return null;
            points.Add(new CategoryPoint(categoryId, share, point.At, point.Id));
        }
        if (points.MaxBy(p => (p.At, p.Id)) is not { } start)
            return null;
        var newer = start.Share;
        foreach (var categoryId in counts.Keys.Where(id => id != start.CategoryId))
        {
            var own = points.FirstOrDefault(p => p.CategoryId == categoryId);
            var parameters = With(filter, new { CategoryId = categoryId, StartAt = start.At, StartId = start.Id, OwnAt = own?.At, OwnId = own?.Id });
            newer += own is null
                ? await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountAfterStart, parameters, cancellationToken: cancellationToken))
                : own.Share - await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountBetweenPoints, parameters, cancellationToken: cancellationToken));
        }
        // More entries above the start than the offset (a category without a share had many of the newest): the start is
        // past the page, and the page merges all the way down.
        return newer > offset ? null : (start.At, start.Id, offset - newer);
    }

    private static DynamicParameters With(DynamicParameters filter, object more)
    {
        var parameters = new DynamicParameters(filter);
        parameters.AddDynamicParams(more);
        return parameters;
    }

    private sealed record CategoryPoint(long CategoryId, long Share, DateTimeOffset At, long Id);

    private sealed record PointRow
    {
        public DateTimeOffset At { get; init; }
        public long Id { get; init; }
    }

    private sealed record CategoryCount
    {
        public long CategoryId { get; init; }
        public long Count { get; init; }
    }

    private static MyRecord Open(SealedRecord row, DataCategory category, IReadOnlyDictionary<long, DataKey> liveKeys)
    {
        if (!liveKeys.TryGetValue(row.DataKeyId, out var key))
            return new MyRecord(row.Id, category, row.CapturedAt, row.ReceivedAt, PayloadState.Erased, null, "Erased: its key was destroyed, so nobody can read it any more.");
        string json;
        try
        {
            json = row.Open(key);
        }
        catch (CryptographicException)
        {
            return Unreadable(row, category);
        }
        var (preview, pretty) = Describe(json);
        return new MyRecord(row.Id, category, row.CapturedAt, row.ReceivedAt, PayloadState.Open, pretty, preview);
    }

    private static MyRecord Unreadable(SealedRecord row, DataCategory category) =>
        new(row.Id, category, row.CapturedAt, row.ReceivedAt, PayloadState.Unreadable, null, "Unreadable: this record fails its integrity check.");

    /// <summary>A one-line preview (<c>window: Inbox · text: Hi Sam…</c>) and the payload indented for reading.</summary>
    public static (string Preview, string Json) Describe(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var preview = new StringBuilder();
            Flatten(document.RootElement, "", preview);
            return (Shorten(preview.ToString()), JsonSerializer.Serialize(document.RootElement, Indented));
        }
        catch (JsonException)
        {
            return (Shorten(json), json);
        }
    }

    private static void Flatten(JsonElement element, string path, StringBuilder preview)
    {
        if (preview.Length > PreviewLength)
            return;
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", preview);
                break;
            case JsonValueKind.Array when element.EnumerateArray().All(item => item.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)):
                Append(path, string.Join(", ", element.EnumerateArray().Select(Scalar)), preview);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    Flatten(item, $"{path}[{index++}]", preview);
                break;
            default:
                Append(path, Scalar(element), preview);
                break;
        }
    }

    private static void Append(string path, string value, StringBuilder preview)
    {
        if (preview.Length > 0)
            preview.Append(" · ");
        if (path.Length > 0)
            preview.Append(path).Append(": ");
        preview.Append(value);
    }

    private static string Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString() ?? "",
        JsonValueKind.Null => "null",
        _ => element.GetRawText(),
    };

    private static string Shorten(string text)
    {
        var line = string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= PreviewLength ? line : line[..(PreviewLength - 1)].TrimEnd() + "…";
    }

    private sealed record DayRow
    {
        public long Day { get; init; }
        public long CategoryId { get; init; }
        public long Count { get; init; }
    }
}
