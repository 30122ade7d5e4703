using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Audit;

/// <summary>The log names who acted on whom, so an auditor's search is itself audited before its rows are returned.</summary>
public sealed class AuditSearchTests : DatabaseTests
{
    private static readonly Actor Audrey = new("audrey@example.com", [Roles.Auditor, Roles.Employee], 41);

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_WritesAnEventFirst_WithTheAuditorAndTheRowCount_AndChainsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 30);

        var page = await db.Get<AuditSearch>().SearchAsync(AuditQuery.None, AuditPageAt.Newest, 20, Audrey, Cancellation);

        Assert.Equal(Enumerable.Range(11, 20).Reverse().Select(seq => (long)seq), page.Events.Select(e => e.Seq));
        Assert.True(page.HasOlder);
        Assert.False(page.HasNewer);
        var all = await ReadAllAsync(db);
        var searched = all[^1];
        Assert.Equal((31L, "audrey@example.com", "Auditor,Employee", AuditActions.AuditSearched, (long?)20), (searched.Seq, searched.Actor, searched.ActorRoles, searched.Action, searched.RecordCount));
        Assert.Equal("20 rows, seq 30-11; no filter", searched.Detail);
        Assert.Equal(all[^2].Hash, searched.PrevHash);
        Assert.Equal(AuditChain.ComputeHash(searched), searched.Hash);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_PagesByKeyset_OlderThenNewer_WithoutGapsOrRepeats(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 30);
        var search = db.Get<AuditSearch>();
        var dana = new AuditQuery(Actor: "Dana@Example.com");

        var first = await search.SearchAsync(dana, AuditPageAt.Newest, 6, Audrey, Cancellation);
        var second = await search.SearchAsync(dana, new AuditPageAt(Before: first.OldestSeq), 6, Audrey, Cancellation);
        var last = await search.SearchAsync(dana, new AuditPageAt(Before: second.OldestSeq), 6, Audrey, Cancellation);
        var back = await search.SearchAsync(dana, new AuditPageAt(After: last.NewestSeq), 6, Audrey, Cancellation);

        Assert.Equal([29L, 27, 25, 23, 21, 19], first.Events.Select(e => e.Seq));
        Assert.Equal([17L, 15, 13, 11, 9, 7], second.Events.Select(e => e.Seq));
        Assert.Equal([5L, 3, 1], last.Events.Select(e => e.Seq));
        Assert.False(last.HasOlder);
        Assert.True(last.HasNewer);
        Assert.Equal(second.Events.Select(e => e.Seq), back.Events.Select(e => e.Seq));
        Assert.True(back.HasNewer);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_BySubjectEmailOrId_ActionProgramAndTime_Filters_AndRecordsTheFilters(Engine engine)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        await using var db = await TestDatabase.CreateAsync(engine, clock);
        long alice;
        await using (var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            alice = await scope.ExecuteScalarAsync<long>(
                "INSERT INTO subjects (email, display_name, created_at) VALUES ('alice@example.com', 'Alice', @Now) RETURNING id", new { Now = clock.GetUtcNow() });
            await scope.CommitAsync();
        }
        for (var i = 1; i <= 10; i++)
        {
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("dana@example.com", [Roles.DataConsumer], AuditActions.RecordsRead,
                SubjectId: i % 2 == 0 ? alice : null, Program: i <= 5 ? "mci" : "chat", RecordCount: i));
            await scope.CommitAsync();
            clock.Advance(TimeSpan.FromHours(1));
        }
        var search = db.Get<AuditSearch>();

        var byEmail = await search.SearchAsync(new AuditQuery(Subject: "ALICE@example.com"), AuditPageAt.Newest, 50, Audrey, Cancellation);
        var byId = await search.SearchAsync(new AuditQuery(Subject: alice.ToString(), Program: "mci", Action: AuditActions.RecordsRead), AuditPageAt.Newest, 50, Audrey, Cancellation);
        var byTime = await search.SearchAsync(new AuditQuery(From: new DateTimeOffset(2026, 11, 27, 11, 0, 0, TimeSpan.Zero), To: new DateTimeOffset(2026, 11, 27, 14, 0, 0, TimeSpan.Zero)),
            AuditPageAt.Newest, 50, Audrey, Cancellation);
        var nobody = await search.SearchAsync(new AuditQuery(Subject: "nobody@example.com"), AuditPageAt.Newest, 50, Audrey, Cancellation);

        Assert.Equal([10L, 8, 6, 4, 2], byEmail.Events.Select(e => e.Seq));
        Assert.Equal([4L, 2], byId.Events.Select(e => e.Seq));
        Assert.Equal([5L, 4, 3], byTime.Events.Select(e => e.Seq));
        Assert.Empty(nobody.Events);
        Assert.Contains("nobody@example.com", nobody.Notice);
        var details = (await ReadAllAsync(db)).Where(e => e.Action == AuditActions.AuditSearched).Select(e => e.Detail).ToList();
        Assert.Equal("5 rows, seq 10-2; subject ALICE@example.com", details[0]);
        Assert.Equal($"2 rows, seq 4-2; action records.read, program mci, subject {alice}", details[1]);
        Assert.Equal("3 rows, seq 5-3; from 2026-11-27T11:00:00.0000000Z, to 2026-11-27T14:00:00.0000000Z", details[2]);
        Assert.Equal("no rows; subject nobody@example.com", details[3]);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_WithAWildcardOrABadSubject_MatchesNothingOrIsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 4);
        var search = db.Get<AuditSearch>();

        var wildcard = await search.SearchAsync(new AuditQuery(Actor: "%"), AuditPageAt.Newest, 50, Audrey, Cancellation);
        var violation = await Assert.ThrowsAsync<RuleViolation>(() => search.SearchAsync(new AuditQuery(Subject: "alice"), AuditPageAt.Newest, 50, Audrey, Cancellation));
        var backwards = await Assert.ThrowsAsync<RuleViolation>(() => search.SearchAsync(
            new AuditQuery(From: DateTimeOffset.UnixEpoch.AddDays(2), To: DateTimeOffset.UnixEpoch), AuditPageAt.Newest, 50, Audrey, Cancellation));

        Assert.Empty(wildcard.Events);
        Assert.Contains("portal id", violation.Message);
        Assert.Contains("after its start", backwards.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_ByAnyoneButAnAuditor_IsRefused_AndWritesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 3);

        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<AuditSearch>().SearchAsync(AuditQuery.None, AuditPageAt.Newest, 20,
            new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]), Cancellation));

        Assert.Equal(3, (await ReadAllAsync(db)).Count);
    }

    /// <summary>Events 1, 3, 5 … by dana reading mci's records; 2, 4, 6 … by priya pausing it.</summary>
    internal static async Task AppendAsync(TestDatabase db, int count)
    {
        await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync();
        for (var i = 1; i <= count; i++)
        {
            var entry = i % 2 == 1
                ? new AuditEntry("dana@example.com", [Roles.DataConsumer], "records.read", SubjectId: null, Program: "mci", RecordCount: i)
                : new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "program.paused", Program: "mci", Detail: "pause");
            await db.Get<AuditLog>().AppendAsync(scope, entry);
        }
        await scope.CommitAsync();
    }

    private static async Task<IReadOnlyList<AuditEvent>> ReadAllAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await connection.AuditEventsAsync();
    }
}
