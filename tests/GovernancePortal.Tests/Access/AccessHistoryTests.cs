using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Access;

public sealed class AccessHistoryTests : DatabaseTests
{
    private const string Alice = "alice@example.com";
    private const string Priya = "priya@example.com";
    private const string Dana = "dana@example.com";
    private const long AliceId = 11;
    private const long BobId = 12;

    /// <summary>Appends each entry one minute after the previous one, starting at <see cref="SampleData.Epoch"/>.</summary>
    private static async Task<TestDatabase> LogAsync(Engine engine, params AuditEntry[] entries)
    {
        var clock = new FakeTimeProvider(SampleData.Epoch);
        var db = await TestDatabase.CreateAsync(engine, clock);
        foreach (var entry in entries)
        {
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await db.Get<AuditLog>().AppendAsync(scope, entry);
            await scope.CommitAsync();
            clock.Advance(TimeSpan.FromMinutes(1));
        }
        return db;
    }

    private static AuditEntry Read(string actor, long subjectId, string detail, string program = "mci", long records = 10) =>
        new(actor, [Roles.DataConsumer, Roles.Employee], "records.read", subjectId, program, "model-training", detail, records);

    private static Task<AccessPage> PageAsync(TestDatabase db, long subjectId, AccessFilter? filter = null, int offset = 0, int limit = 50) =>
        db.Get<AccessHistory>().PageAsync(subjectId, Alice, filter ?? AccessFilter.None, offset, limit, Cancellation);

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_EventsAboutMeByOthers_AreListedNewestFirstWithEverythingTheyRecorded(Engine engine)
    {
        await using var db = await LogAsync(engine,
            Read(Dana, AliceId, "categories: keystrokes, transcriptions; grant 7", records: 120),
            new AuditEntry(Priya, [Roles.PrivacyOfficer, Roles.Employee], "objection.rejected", AliceId, "mci", Detail: "R-1: needed for security"),
            new AuditEntry("system", [], "records.purged", AliceId, "endpoint-security", RecordCount: 3));

        var page = await PageAsync(db, AliceId);

        Assert.Equal(3, page.Total);
        Assert.Equal(["system", Priya, Dana], page.Events.Select(e => e.Actor));
        Assert.True(page.Events[0].OccurredAt > page.Events[1].OccurredAt && page.Events[1].OccurredAt > page.Events[2].OccurredAt);
        var read = page.Events[2];
        Assert.Equal(("records.read", "mci", "model-training", 120L), (read.Action, read.Program, read.Purpose, read.RecordCount!.Value));
        Assert.Equal([Roles.DataConsumer, Roles.Employee], read.Roles);
        Assert.Equal(["keystrokes", "transcriptions"], read.Categories);
        Assert.Equal(7, read.GrantId);
        Assert.Equal(SampleData.Epoch, read.OccurredAt);
        Assert.Equal(TimeSpan.Zero, read.OccurredAt.Offset);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_MyOwnActions_AreNotListedWhateverTheCaseOfMyEmail(Engine engine)
    {
        await using var db = await LogAsync(engine,
            new AuditEntry(Alice, [Roles.Employee], "subject.revoked", AliceId, "mci", Detail: "withdrawal of the whole program"),
            new AuditEntry("Alice@Example.COM", [Roles.Employee], "request.erasure.received", AliceId, "mci"),
            Read(Dana, AliceId, "categories: keystrokes; grant 7"));

        var page = await PageAsync(db, AliceId);
        var summary = await db.Get<AccessHistory>().SummaryAsync(AliceId, Alice, Cancellation);

        Assert.Equal(Dana, Assert.Single(page.Events).Actor);
        Assert.Equal(1, page.Total);
        Assert.Equal((1L, 1L), (summary.EventCount, summary.ActorCount));
        Assert.Equal(["records.read"], summary.Actions);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_EventsAboutOtherSubjectsOrNobody_NeverAppear(Engine engine)
    {
        await using var db = await LogAsync(engine,
            Read(Dana, BobId, "categories: transcriptions; grant 7 (bob)"),
            new AuditEntry(Priya, [Roles.PrivacyOfficer], "program.paused", Program: "mci", Detail: "leak"),
            Read(Dana, AliceId, "categories: keystrokes; grant 7 (alice)"));

        var alice = await PageAsync(db, AliceId);
        var bob = await PageAsync(db, BobId);
        var nobody = await PageAsync(db, 999);

        Assert.Equal("categories: keystrokes; grant 7 (alice)", Assert.Single(alice.Events).Detail);
        Assert.Equal("categories: transcriptions; grant 7 (bob)", Assert.Single(bob.Events).Detail);
        Assert.Empty(nobody.Events);
        Assert.Equal(0, nobody.Total);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_Filters_NarrowByProgramActionActorAndUtcDays(Engine engine)
    {
        // Four events a minute apart from 09:00 UTC on 2 March, and a fifth on 3 March.
        await using var db = await LogAsync(engine,
            Read(Dana, AliceId, "d1", program: "mci"),
            Read(Dana, AliceId, "d2", program: "endpoint-security"),
            new AuditEntry(Priya, [Roles.PrivacyOfficer], "objection.rejected", AliceId, "mci", Detail: "p1"),
            new AuditEntry("system", [], "records.purged", AliceId, "mci", Detail: "s1"));
        var nextDay = new FakeTimeProvider(SampleData.Epoch.AddDays(1));
        await using (var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await new AuditLog(nextDay).AppendAsync(scope, Read("Dana.Other@example.com", AliceId, "d3_next_day"));
            await scope.CommitAsync();
        }

        async Task<IEnumerable<string?>> Details(AccessFilter filter) => (await PageAsync(db, AliceId, filter)).Events.Select(e => e.Detail);

        Assert.Equal(["d3_next_day", "s1", "p1", "d1"], await Details(new(Program: "mci")));
        Assert.Equal(["p1"], await Details(new(Action: "objection.rejected")));
        Assert.Equal(["d3_next_day", "d2", "d1"], await Details(new(Actor: "DANA")));
        Assert.Equal(["d3_next_day"], await Details(new(Actor: "dana.")));
        Assert.Empty(await Details(new(Actor: "%")));
        Assert.Equal(["s1", "p1", "d2", "d1"], await Details(new(To: DateOnly.FromDateTime(SampleData.Epoch.UtcDateTime))));
        Assert.Equal(["d3_next_day"], await Details(new(From: DateOnly.FromDateTime(SampleData.Epoch.UtcDateTime.AddDays(1)))));
        Assert.Equal(["d1"], await Details(new(Program: "mci", Action: "records.read", Actor: "dana@", To: DateOnly.FromDateTime(SampleData.Epoch.UtcDateTime))));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Page_Paging_WalksEveryEventOnceNewestFirstWithTheFullTotal(Engine engine)
    {
        await using var db = await LogAsync(engine,
            [.. Enumerable.Range(1, 7).Select(i => Read(i % 2 == 0 ? Dana : Priya, AliceId, $"read {i}")),
             Read(Dana, BobId, "bob's")]);

        var pages = new List<AccessPage>();
        for (var offset = 0; offset < 9; offset += 3)
            pages.Add(await PageAsync(db, AliceId, offset: offset, limit: 3));
        var filtered = await PageAsync(db, AliceId, new AccessFilter(Actor: Priya), offset: 2, limit: 3);

        Assert.All(pages, page => Assert.Equal(7, page.Total));
        Assert.Equal([3, 3, 1], pages.Select(page => page.Events.Count));
        Assert.Equal(Enumerable.Range(1, 7).Reverse().Select(i => $"read {i}"), pages.SelectMany(page => page.Events).Select(e => e.Detail));
        Assert.Equal(4, filtered.Total);
        Assert.Equal(["read 3", "read 1"], filtered.Events.Select(e => e.Detail));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Summary_CountsEventsDistinctActorsAndTheLastAccess(Engine engine)
    {
        await using var db = await LogAsync(engine,
            Read(Dana, AliceId, "a", program: "mci"),
            Read("DANA@example.com", AliceId, "b", program: "endpoint-security"),
            new AuditEntry("system", [], "records.purged", AliceId, "mci"),
            Read(Priya, BobId, "bob's", program: "bob-only"));

        var summary = await db.Get<AccessHistory>().SummaryAsync(AliceId, Alice, Cancellation);
        var empty = await db.Get<AccessHistory>().SummaryAsync(999, "nobody@example.com", Cancellation);

        Assert.Equal((3L, 2L), (summary.EventCount, summary.ActorCount));
        Assert.Equal(SampleData.Epoch.AddMinutes(2), summary.LastAccessAt);
        Assert.Equal(["endpoint-security", "mci"], summary.Programs);
        Assert.Equal(["records.purged", "records.read"], summary.Actions);
        Assert.Equal((0L, 0L, (DateTimeOffset?)null), (empty.EventCount, empty.ActorCount, empty.LastAccessAt));
        Assert.Empty(empty.Programs);
    }
}
