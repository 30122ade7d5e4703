using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Audit;

public sealed class AuditLogTests : DatabaseTests
{
    private static async Task AppendAsync(IServiceProvider services, AuditEntry entry)
    {
        await using var scope = await services.GetRequiredService<ConnectionFactory>().BeginWriteAsync();
        await services.GetRequiredService<AuditLog>().AppendAsync(scope, entry);
        await scope.CommitAsync();
    }

    private static async Task<IReadOnlyList<AuditEvent>> ReadAllAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await connection.AuditEventsAsync();
    }

    private static void AssertChainIsIntact(IReadOnlyList<AuditEvent> events)
    {
        Assert.Equal(Enumerable.Range(1, events.Count).Select(seq => (long)seq), events.Select(e => e.Seq));
        Assert.Equal(AuditChain.GenesisHash, events[0].PrevHash);
        Assert.Equal(new string('0', 64), AuditChain.GenesisHash);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(AuditChain.ComputeHash(events[i]), events[i].Hash);
            if (i > 0)
                Assert.Equal(events[i - 1].Hash, events[i].PrevHash);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Append_ThreeEvents_NumbersThemWithoutGapsAndLinksEachToItsPredecessor(Engine engine)
    {
        // A clock below microseconds: the hash must be over the time as stored, or it would not recompute.
        var clock = new FakeTimeProvider(SampleData.Epoch.AddTicks(1_234_567));
        await using var db = await TestDatabase.CreateAsync(engine, clock);

        await AppendAsync(db.Services, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee, Roles.Employee], "program.paused",
            Program: "mci", Detail: "Leak reported; collection stopped."));
        clock.Advance(TimeSpan.FromSeconds(1));
        await AppendAsync(db.Services, new AuditEntry("dana@example.com", [Roles.DataConsumer], "records.read",
            SubjectId: 7, Program: "mci", Purpose: "model-training", RecordCount: 12));
        clock.Advance(TimeSpan.FromSeconds(1));
        await AppendAsync(db.Services, new AuditEntry("system", [], "demo.seeded", Detail: "Ünïcödé détail ✓"));

        var events = await ReadAllAsync(db);
        Assert.Equal(3, events.Count);
        AssertChainIsIntact(events);
        Assert.Equal("Employee,PrivacyOfficer", events[0].ActorRoles);
        Assert.Equal(StoredTime.Normalize(SampleData.Epoch.AddTicks(1_234_567)), events[0].OccurredAt);
        Assert.Equal((7L, "model-training", 12L), (events[1].SubjectId!.Value, events[1].Purpose, events[1].RecordCount!.Value));
        Assert.Equal("Ünïcödé détail ✓", events[2].Detail);
        Assert.Equal(3, events.Select(e => e.Hash).Distinct().Count());
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Append_FromFourWritersAtOnce_KeepsOneGapFreeLinkedChain(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        const int Writers = 4, EventsEach = 15;
        using var start = new Barrier(Writers);

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            start.SignalAndWait(Cancellation);
            for (var i = 0; i < EventsEach; i++)
                await AppendAsync(db.Services, new AuditEntry($"writer{writer}", [Roles.Admin], "test.appended", Detail: $"{writer}/{i}"));
        }, Cancellation)));

        var events = await ReadAllAsync(db);
        Assert.Equal(Writers * EventsEach, events.Count);
        AssertChainIsIntact(events);
        Assert.Equal(Writers * EventsEach, events.Select(e => e.Detail).Distinct().Count());
    }

    [Fact]
    public void ComputeHash_AnyFieldChanged_ChangesTheHash()
    {
        var original = new AuditEvent
        {
            Seq = 1, OccurredAt = SampleData.Epoch, Actor = "a", ActorRoles = "Auditor", Action = "audit.exported",
            PrevHash = AuditChain.GenesisHash,
        };
        var hash = AuditChain.ComputeHash(original);

        AuditEvent[] altered =
        [
            original with { Seq = 2 }, original with { OccurredAt = SampleData.Epoch.AddTicks(10) },
            original with { Actor = "b" }, original with { ActorRoles = "Admin" }, original with { Action = "x" },
            original with { SubjectId = 1 }, original with { Program = "mci" }, original with { Purpose = "p" },
            original with { Detail = "d" }, original with { RecordCount = 0 }, original with { PrevHash = new string('1', 64) },
            // A literal "-" is not a missing value.
            original with { Program = "-" },
        ];

        Assert.All(altered, e => Assert.NotEqual(hash, AuditChain.ComputeHash(e)));
    }
}
