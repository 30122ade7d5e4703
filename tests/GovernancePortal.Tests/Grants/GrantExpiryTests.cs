using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Grants;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Grants;

/// <summary>The expiry sweep marks grants past their end as ended, once each, with one audit event each.</summary>
public sealed class GrantExpiryTests : DatabaseTests
{
    private static async Task<(TestDatabase Db, FakeTimeProvider Clock, GrantWorld World)> SetupAsync(Engine engine)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var db = await TestDatabase.CreateAsync(engine, clock);
        return (db, clock, await GrantWorld.CreateAsync(db));
    }

    private static async Task<IReadOnlyList<long>> ExpiredEventsAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.GrantExpired)
            .Select(e => RecordAccessDetail.Read(e.Detail).GrantId ?? 0).ToList();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_MarksOnlyGrantsPastTheirEnd_AndAuditsEachOnce(Engine engine)
    {
        var (db, clock, world) = await SetupAsync(engine);
        await using var _ = db;
        var desk = db.Get<GrantDesk>();
        var active = await world.ActiveGrantAsync(db.Services, "keystrokes");                    // ends in 30 days
        var later = await desk.AskAsync(GrantWorld.Ask("keystrokes") with { EndsAt = clock.GetUtcNow().AddDays(60) }, world.Erin, Cancellation);
        var ended = await world.ActiveGrantAsync(db.Services, "keystrokes");
        await desk.EndAsync(ended, "The evaluation is over", world.Omar, Cancellation);

        var before = await db.Get<GrantExpiry>().RunAsync(Cancellation);
        clock.Advance(TimeSpan.FromDays(31));
        var marked = await db.Get<GrantExpiry>().RunAsync(Cancellation);
        var again = await db.Get<GrantExpiry>().RunAsync(Cancellation);

        Assert.Empty(before);
        Assert.Equal([active], marked);
        Assert.Empty(again);
        Assert.Equal([active], await ExpiredEventsAsync(db));
        var detail = await db.Get<GrantQueries>().DetailAsync(active, world.Dana, Cancellation);
        Assert.NotNull(detail.Grant.ExpiredAt);
        Assert.Equal(GrantStatus.Expired, detail.Grant.StatusAt(clock.GetUtcNow()));
        Assert.Equal("Ended at its end time", detail.History[^1].What);
        Assert.Null((await db.Get<GrantQueries>().DetailAsync(later, world.Erin, Cancellation)).Grant.ExpiredAt);
        Assert.Null((await db.Get<GrantQueries>().DetailAsync(ended, world.Dana, Cancellation)).Grant.ExpiredAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_PendingGrantPastItsEnd_IsMarkedToo_AsNeverApproved(Engine engine)
    {
        var (db, clock, world) = await SetupAsync(engine);
        await using var _ = db;
        var pending = await db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), world.Dana, Cancellation);
        clock.Advance(TimeSpan.FromDays(31));

        Assert.Equal([pending], await db.Get<GrantExpiry>().RunAsync(Cancellation));

        await using var connection = await db.OpenAsync();
        var expired = (await connection.AuditEventsAsync()).Single(e => e.Action == AuditActions.GrantExpired);
        Assert.Contains("never approved", expired.Detail);
        Assert.Equal("system", expired.Actor);
        Assert.Equal("mci", expired.Program);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_TwoAtOnce_AuditEachGrantOnce_InBatches(Engine engine)
    {
        var (db, clock, world) = await SetupAsync(engine);
        await using var _ = db;
        var ids = new List<long>();
        for (var i = 0; i < GrantExpiry.BatchSize + 5; i++)
            ids.Add(await db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), i % 2 == 0 ? world.Dana : world.Erin, Cancellation));
        clock.Advance(TimeSpan.FromDays(31));

        var runs = await Task.WhenAll(db.Get<GrantExpiry>().RunAsync(Cancellation), db.Get<GrantExpiry>().RunAsync(Cancellation));

        Assert.Equal(ids.Order(), runs.SelectMany(r => r).Order());
        Assert.Equal(ids.Order(), (await ExpiredEventsAsync(db)).Order());
        await using var connection = await db.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM grants WHERE expired_at IS NULL"));
    }
}
