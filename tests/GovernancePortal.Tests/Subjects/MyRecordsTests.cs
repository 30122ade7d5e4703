using GovernancePortal.Collection;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Subjects;

public sealed class MyRecordsTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task Page_ShowsOnlyMyRecordsInThatProgram_NewestFirst_Decrypted(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var other = await SampleData.ProgramAsync(db, "endpoint-security", "process_events");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"window":"Inbox","text":"Hi Sam"}"""),
            new NewRecord(mci.Id, mci["transcriptions"], alice, SampleData.Epoch.AddHours(2), """{"meeting":"Standup","text":"alice speaking"}"""),
            new NewRecord(mci.Id, mci["keystrokes"], bob, SampleData.Epoch.AddHours(1), """{"text":"bob's secret"}"""),
            new NewRecord(other.Id, other["process_events"], alice, SampleData.Epoch.AddHours(3), """{"process":"chrome.exe"}"""));

        var page = await db.Get<MyRecords>().PageAsync(alice, "mci", null, null, null, 0, 25, Cancellation);

        Assert.Equal(2, page.Total);
        Assert.Equal(["meeting: Standup · text: alice speaking", "window: Inbox · text: Hi Sam"], page.Records.Select(r => r.Preview));
        Assert.Equal(["transcriptions", "keystrokes"], page.Records.Select(r => r.Category.Key));
        Assert.All(page.Records, r => Assert.Equal(PayloadState.Open, r.State));
        Assert.Contains("\"text\": \"Hi Sam\"", page.Records[1].Json);
        var bobs = await db.Get<MyRecords>().PageAsync(bob, "mci", null, null, null, 0, 25, Cancellation);
        Assert.Equal(["text: bob's secret"], bobs.Records.Select(r => r.Preview));
    }

    /// <summary>alice's ten records in <c>mci</c>, one a day from the epoch, keystrokes on even days and transcriptions on odd ones.</summary>
    private static async Task<(TestDatabase Db, SampleProgram Mci, long Alice)> TenDaysAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 10)
            .Select(day => new NewRecord(mci.Id, mci[day % 2 == 0 ? "keystrokes" : "transcriptions"], alice, SampleData.Epoch.AddDays(day), $$"""{"day":{{day}}}"""))
            .ToArray());
        return (db, mci, alice);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_CategoryAndDateFilters_NarrowTheRecordsAndTheTotal(Engine engine)
    {
        var (db, mci, alice) = await TenDaysAsync(engine);
        await using var _ = db;
        var records = db.Get<MyRecords>();

        var keystrokes = await records.PageAsync(alice, "mci", "keystrokes", null, null, 0, 25, Cancellation);
        var days3To5 = await records.PageAsync(alice, "mci", null, SampleData.Epoch.AddDays(3), SampleData.Epoch.AddDays(6), 0, 25, Cancellation);
        var both = await records.PageAsync(alice, "mci", "transcriptions", SampleData.Epoch.AddDays(3), SampleData.Epoch.AddDays(6), 0, 25, Cancellation);

        Assert.Equal("5: day: 8, day: 6, day: 4, day: 2, day: 0", Describe(keystrokes));
        Assert.Equal("3: day: 5, day: 4, day: 3", Describe(days3To5));
        Assert.Equal("2: day: 5, day: 3", Describe(both));

        static string Describe(MyRecordsPage page) => $"{page.Total}: {string.Join(", ", page.Records.Select(r => r.Preview))}";
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_TheHoldingsCounts_StandForTheTotal_OnlyWithoutATimeRange(Engine engine)
    {
        var (db, mci, alice) = await TenDaysAsync(engine);
        await using var _ = db;
        var records = db.Get<MyRecords>();
        var holding = await records.ProgramAsync(alice, "mci", Cancellation);
        var counts = holding!.RecordCounts;

        var all = await records.PageAsync(alice, "mci", null, null, null, 0, 3, Cancellation, counts);
        var inCategory = await records.PageAsync(alice, "mci", "keystrokes", null, null, 0, 3, Cancellation, counts);
        // Counts that are not the filter's are ignored once a time range narrows it: the page counts for itself.
        var ranged = await records.PageAsync(alice, "mci", null, SampleData.Epoch.AddDays(3), SampleData.Epoch.AddDays(6), 0, 3, Cancellation, counts);
        // The known counts are taken as they are, not checked against the database: past their end there is no page.
        var fewer = new Dictionary<long, long> { [mci["keystrokes"]] = 2, [mci["transcriptions"]] = 2 };
        var pastTheEnd = await records.PageAsync(alice, "mci", null, null, null, 4, 3, Cancellation, fewer);

        Assert.Equal((10, 3), (all.Total, all.Records.Count));
        Assert.Equal("5: day: 8, day: 6, day: 4", $"{inCategory.Total}: {string.Join(", ", inCategory.Records.Select(r => r.Preview))}");
        Assert.Equal((3, 3), (ranged.Total, ranged.Records.Count));
        Assert.Equal((4, 0), (pastTheEnd.Total, pastTheEnd.Records.Count));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_DeepInTheProgram_IsExactlyTheNewestFirstOrder_WithTiesUnevenCategoriesAndTimeRanges(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "mouse", "transcriptions", "performance");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        // 3,600 records: keystrokes and mouse spread alike over the whole time, transcriptions only in its newest
        // part, and three of performance (too few for a share of offsets below 1,200), two of them the newest of all;
        // times repeat, within a category and across them.
        var random = new Random(13);
        var wanted = new List<NewRecord>();
        for (var i = 0; i < 3_597; i++)
        {
            var second = random.Next(0, 2_000);
            var category = i % 10 < 4 ? "keystrokes" : i % 10 < 8 || second < 1_400 ? "mouse" : "transcriptions";
            wanted.Add(new NewRecord(mci.Id, mci[category], alice, SampleData.Epoch.AddSeconds(second), $$"""{"n":{{i}}}"""));
        }
        foreach (var second in new[] { 0, 2_000, 2_000 })
            wanted.Add(new NewRecord(mci.Id, mci["performance"], alice, SampleData.Epoch.AddSeconds(second), "{}"));
        foreach (var chunk in wanted.Chunk(900))
            await SampleData.AddRecordsAsync(db, chunk);
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 300)
            .Select(i => new NewRecord(mci.Id, mci["keystrokes"], bob, SampleData.Epoch.AddSeconds(i), "{}")).ToArray());
        var records = db.Get<MyRecords>();
        var all = await records.PageAsync(alice, "mci", null, null, null, 0, 5_000, Cancellation);
        Assert.Equal(3_600, all.Total);
        Assert.Equal(3_600, all.Records.Count);
        Assert.True(all.Records.Zip(all.Records.Skip(1)).All(p => p.First.CapturedAt > p.Second.CapturedAt || (p.First.CapturedAt == p.Second.CapturedAt && p.First.Id > p.Second.Id)));
        var counts = (await records.ProgramAsync(alice, "mci", Cancellation))!.RecordCounts;

        foreach (var offset in new[] { MyRecords.DeepOffset - 1, MyRecords.DeepOffset, 1_100, 1_234, 1_800, 2_999, 3_590, 3_599 })
        {
            var page = await records.PageAsync(alice, "mci", null, null, null, offset, 25, Cancellation);
            var turned = await records.PageAsync(alice, "mci", null, null, null, offset, 25, Cancellation, counts);
            var expected = all.Records.Skip(offset).Take(25).Select(r => r.Id).ToList();
            Assert.Equal(expected, page.Records.Select(r => r.Id).ToList());
            Assert.Equal(expected, turned.Records.Select(r => r.Id).ToList());
        }

        // Counts read before records were collected or erased (one category far too large, one as if empty) leave the pages exact.
        var inflated = counts.ToDictionary(c => c.Key, c => c.Key == mci["keystrokes"] ? 50_000 : c.Value);
        var oneMissing = counts.ToDictionary(c => c.Key, c => c.Key == mci["transcriptions"] ? 0 : c.Value);
        foreach (var offset in new[] { MyRecords.DeepOffset, 1_800, 2_999 })
        {
            var expected = all.Records.Skip(offset).Take(25).Select(r => r.Id).ToList();
            Assert.Equal(expected, (await records.PageAsync(alice, "mci", null, null, null, offset, 25, Cancellation, inflated)).Records.Select(r => r.Id).ToList());
            Assert.Equal(expected, (await records.PageAsync(alice, "mci", null, null, null, offset, 25, Cancellation, oneMissing)).Records.Select(r => r.Id).ToList());
        }

        var from = SampleData.Epoch.AddSeconds(300);
        var to = SampleData.Epoch.AddSeconds(1_700);
        var ranged = all.Records.Where(r => r.CapturedAt >= from && r.CapturedAt < to).ToList();
        foreach (var offset in new[] { MyRecords.DeepOffset, ranged.Count / 2, ranged.Count - 1 })
        {
            var page = await records.PageAsync(alice, "mci", null, from, to, offset, 25, Cancellation, counts);
            Assert.Equal(ranged.Count, page.Total);
            Assert.Equal(ranged.Skip(offset).Take(25).Select(r => r.Id).ToList(), page.Records.Select(r => r.Id).ToList());
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_UnknownProgramOrCategory_IsEmpty_AndProgramIsNullWhenNothingIsHeld(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        await SampleData.ProgramAsync(db, "empty", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db, new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"text":"alice only"}"""));
        var records = db.Get<MyRecords>();

        Assert.Equal(0, (await records.PageAsync(alice, "no-such-program", null, null, null, 0, 25, Cancellation)).Total);
        Assert.Equal(0, (await records.PageAsync(alice, "mci", "no_such_category", null, null, 0, 25, Cancellation)).Total);
        Assert.Equal(0, (await records.PageAsync(bob, "mci", null, null, null, 0, 25, Cancellation)).Total);
        Assert.Null(await records.ProgramAsync(alice, "no-such-program", Cancellation));
        Assert.Null(await records.ProgramAsync(alice, "empty", Cancellation));
        Assert.Null(await records.ProgramAsync(bob, "mci", Cancellation));
        var held = await records.ProgramAsync(alice, "mci", Cancellation);
        Assert.Equal(1, held!.RecordCount);
        Assert.Equal(SampleData.Epoch, held.LastCapturedAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_PagesThroughEverything_WithTheRealTotal_AndTiesBrokenByNewestId(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        // Pairs of records share a captured time, across categories.
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 30)
            .Select(n => new NewRecord(mci.Id, mci[n % 3 == 0 ? "transcriptions" : "keystrokes"], alice, SampleData.Epoch.AddMinutes(n / 2), $$"""{"n":{{n}}}"""))
            .ToArray());
        var records = db.Get<MyRecords>();

        var pages = new List<MyRecordsPage>();
        for (var offset = 0; offset < 35; offset += 7)
            pages.Add(await records.PageAsync(alice, "mci", null, null, null, offset, 7, Cancellation));

        Assert.All(pages, page => Assert.Equal(30, page.Total));
        Assert.Equal([7, 7, 7, 7, 2], pages.Select(page => page.Records.Count));
        var all = pages.SelectMany(page => page.Records).ToList();
        Assert.Equal(Enumerable.Range(0, 30).Reverse().Select(n => $"n: {n}"), all.Select(r => r.Preview));
        Assert.Equal(all.Select(r => r.Id).OrderDescending(), all.Select(r => r.Id));
        var beyond = await records.PageAsync(alice, "mci", null, null, null, 100, 7, Cancellation);
        Assert.Equal((30, 0), (beyond.Total, beyond.Records.Count));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_RecordsOfAnErasedScope_ShowAsErased_OthersStillOpen(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"text":"typed"}"""),
            new NewRecord(mci.Id, mci["transcriptions"], alice, SampleData.Epoch.AddHours(1), """{"text":"said in a meeting"}"""));
        await SampleData.DestroyKeysAsync(db, alice, mci.Id, mci["transcriptions"]);

        var page = await db.Get<MyRecords>().PageAsync(alice, "mci", null, null, null, 0, 25, Cancellation);

        Assert.Equal([PayloadState.Erased, PayloadState.Open], page.Records.Select(r => r.State));
        Assert.Null(page.Records[0].Json);
        Assert.StartsWith("Erased", page.Records[0].Preview);
        Assert.DoesNotContain("meeting", page.Records[0].Preview);
        Assert.Equal("text: typed", page.Records[1].Preview);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task PerDay_CountsEachUtcDayAndCategory_SplitAtMidnight_OnlyMine(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var midnight = new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero);
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, midnight.AddTicks(-10), "{}"),          // 23:59:59.999999 on 2 March
            new NewRecord(mci.Id, mci["keystrokes"], alice, midnight.AddHours(-5), "{}"),
            new NewRecord(mci.Id, mci["transcriptions"], alice, midnight.AddHours(-1), "{}"),
            new NewRecord(mci.Id, mci["keystrokes"], alice, midnight, "{}"),                        // 00:00 on 3 March
            new NewRecord(mci.Id, mci["keystrokes"], alice, midnight.AddDays(1).AddTicks(-10), "{}"),
            new NewRecord(mci.Id, mci["keystrokes"], alice, midnight.AddDays(5), "{}"),             // outside the range asked
            new NewRecord(mci.Id, mci["keystrokes"], bob, midnight.AddHours(1), "{}"),
            // A time given with an offset is bucketed by its UTC day: 01:30+02:00 is 23:30 UTC on 2 March.
            new NewRecord(mci.Id, mci["transcriptions"], alice, new DateTimeOffset(2026, 3, 3, 1, 30, 0, TimeSpan.FromHours(2)), "{}"));

        var counts = await db.Get<MyRecords>().PerDayAsync(alice, "mci", midnight.AddDays(-1), midnight.AddDays(2), Cancellation);

        Assert.Equal(
            [(new DateOnly(2026, 3, 2), "keystrokes", 2L), (new DateOnly(2026, 3, 2), "transcriptions", 2L), (new DateOnly(2026, 3, 3), "keystrokes", 2L)],
            counts.Select(c => (c.Day, c.Category.Key, c.Count)));
        Assert.Empty(await db.Get<MyRecords>().PerDayAsync(alice, "no-such-program", midnight.AddDays(-1), midnight.AddDays(2), Cancellation));
    }

    [Fact]
    public void Describe_FlattensKeysToOneShortLine_AndIndentsTheJson()
    {
        var (preview, json) = MyRecords.Describe("""{"window":"Inbox","text":"Hi Sam,\nsee you","meta":{"keys":52,"tags":["a","b"]},"none":null}""");
        var (longPreview, _) = MyRecords.Describe($$"""{"text":"{{new string('x', 500)}}"}""");
        var (notJson, raw) = MyRecords.Describe("not json");

        Assert.Equal("window: Inbox · text: Hi Sam, see you · meta.keys: 52 · meta.tags: a, b · none: null", preview);
        Assert.Contains("\n  \"window\": \"Inbox\"", json);
        Assert.Equal(MyRecords.PreviewLength, longPreview.Length);
        Assert.EndsWith("…", longPreview);
        Assert.Equal(("not json", "not json"), (notJson, raw));
    }
}
