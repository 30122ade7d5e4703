using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Data;

public sealed class StoredTimeTests : DatabaseTests
{
    private const string InsertProgram = """
        INSERT INTO programs (key, name, purpose, owner, legal_basis, created_at, updated_at)
        VALUES (@Key, @Key, 'testing', 'tests', 'consent', @At, @At)
        """;

    [Theory, MemberData(nameof(Engines))]
    public async Task Time_WithOffsetAndMicroseconds_ReadsBackAsTheSameInstantInUtc(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var connection = await db.OpenAsync();
        var written = new DateTimeOffset(2026, 3, 29, 1, 30, 15, TimeSpan.FromHours(2)).AddTicks(1_234_560);

        await connection.ExecuteAsync(InsertProgram, new { Key = "t", At = written });
        var read = await connection.QuerySingleAsync<DateTimeOffset>("SELECT created_at FROM programs WHERE key = 't'");

        Assert.Equal(written.UtcTicks, read.UtcTicks);
        Assert.Equal(TimeSpan.Zero, read.Offset);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Time_NormalizedBelowMicroseconds_IsExactlyWhatIsReadBack(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var connection = await db.OpenAsync();
        // 7 digits of fraction: SQLite's text would keep the last one, PostgreSQL would drop it.
        var normalized = StoredTime.Normalize(new DateTimeOffset(2026, 3, 29, 1, 30, 15, TimeSpan.Zero).AddTicks(1_234_567));

        await connection.ExecuteAsync(InsertProgram, new { Key = "t", At = normalized });
        var read = await connection.QuerySingleAsync<DateTimeOffset>("SELECT created_at FROM programs WHERE key = 't'");

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 30, 15, TimeSpan.Zero).AddTicks(1_234_560), read);
        Assert.Equal(normalized.UtcTicks, read.UtcTicks);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task NullableTime_NullAndSet_RoundTrip(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "p", "kept", "retired");
        await using var connection = await db.OpenAsync();
        var retiredAt = new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.FromHours(-5));

        await connection.ExecuteAsync("UPDATE categories SET retired_at = @At WHERE id = @Id", new { At = (DateTimeOffset?)retiredAt, Id = program["retired"] });
        var read = (await connection.QueryAsync<(string Key, DateTimeOffset? RetiredAt)>(
            "SELECT key, retired_at FROM categories WHERE program_id = @Id ORDER BY key", new { program.Id })).ToList();

        Assert.Equal([("kept", null), ("retired", (DateTimeOffset?)retiredAt)], read);
        Assert.Equal(TimeSpan.Zero, read[1].RetiredAt!.Value.Offset);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Times_InDifferentOffsets_OrderAndCompareAsInstants(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var connection = await db.OpenAsync();
        var nine = new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);
        var times = new Dictionary<string, DateTimeOffset>
        {
            ["a"] = new(2026, 1, 5, 10, 0, 0, TimeSpan.FromHours(2)),  // 08:00Z, yet "10:00" as local text
            ["b"] = nine,
            ["c"] = nine.AddTicks(10),                                 // one microsecond later
            ["d"] = new(2026, 1, 5, 8, 30, 0, TimeSpan.FromHours(-1)), // 09:30Z
            ["e"] = new(2026, 1, 5, 19, 0, 0, TimeSpan.FromHours(9)),  // 10:00Z
        };
        foreach (var key in new[] { "e", "c", "a", "d", "b" })
            await connection.ExecuteAsync(InsertProgram, new { Key = key, At = times[key] });

        var ordered = await connection.QueryAsync<string>("SELECT key FROM programs ORDER BY created_at");
        var afterNine = await connection.QueryAsync<string>("SELECT key FROM programs WHERE created_at > @After ORDER BY created_at", new { After = nine });

        Assert.Equal(["a", "b", "c", "d", "e"], ordered);
        Assert.Equal(["c", "d", "e"], afterNine);
    }
}
