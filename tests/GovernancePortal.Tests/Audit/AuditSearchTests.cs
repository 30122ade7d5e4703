using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Testing;

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

        var page = await db.Get<AuditSearch>().SearchAsync(AuditQuery.None, 0, 20, Audrey, Cancellation);

        Assert.Equal(30, page.Total);
        Assert.Equal(Enumerable.Range(11, 20).Reverse().Select(seq => (long)seq), page.Events.Select(e => e.Seq));
        var all = await ReadAllAsync(db);
        var searched = all[^1];
        Assert.Equal((31L, "audrey@example.com", "Auditor,Employee", AuditActions.AuditSearched, (long?)20), (searched.Seq, searched.Actor, searched.ActorRoles, searched.Action, searched.RecordCount));
        Assert.Equal("rows 1-20 of 30; no filter", searched.Detail);
        Assert.Equal(all[^2].Hash, searched.PrevHash);
        Assert.Equal(AuditChain.ComputeHash(searched), searched.Hash);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_ByActorActionAndProgram_FiltersAndPagesNewestFirst_AndRecordsTheFilters(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 30);
        var search = db.Get<AuditSearch>();

        var dana = await search.SearchAsync(new AuditQuery(Actor: "DANA"), 5, 5, Audrey, Cancellation);
        var pauses = await search.SearchAsync(new AuditQuery(Action: "program.paused", Program: "mci"), 0, 50, Audrey, Cancellation);
        var wildcard = await search.SearchAsync(new AuditQuery(Actor: "%"), 0, 50, Audrey, Cancellation);

        Assert.Equal(15, dana.Total);
        Assert.Equal([19L, 17, 15, 13, 11], dana.Events.Select(e => e.Seq));
        Assert.All(pauses.Events, e => Assert.Equal(("program.paused", "mci"), (e.Action, e.Program)));
        Assert.Equal(15, pauses.Total);
        Assert.Equal(0, wildcard.Total);
        var searches = (await ReadAllAsync(db)).Where(e => e.Action == AuditActions.AuditSearched).ToList();
        Assert.Equal(
            ["rows 6-10 of 15; actor contains \"DANA\"", "rows 1-15 of 15; action program.paused, program mci", "no rows of 0; actor contains \"%\""],
            searches.Select(e => e.Detail));
        Assert.Equal([5L, 15, 0], searches.Select(e => e.RecordCount ?? -1));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Search_ByAnyoneButAnAuditor_IsRefused_AndWritesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendAsync(db, 3);

        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<AuditSearch>().SearchAsync(AuditQuery.None, 0, 20,
            new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]), Cancellation));

        Assert.Equal(3, (await ReadAllAsync(db)).Count);
    }

    /// <summary>Events 1, 3, 5 … by dana reading mci's records; 2, 4, 6 … by priya pausing it.</summary>
    private static async Task AppendAsync(TestDatabase db, int count)
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
