using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Collection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Programs;

/// <summary>
/// The pause check counts records received after a pause committed. Records are added through the
/// record store, which (unlike the collection endpoint) does not consult the switches: that is how a
/// broken switch would look, and what the check must catch.
/// </summary>
public sealed class PauseCheckTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    private static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private sealed record Setup(TestDatabase Db, FakeTimeProvider Clock, SampleProgram Program, long Alice) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Db.DisposeAsync();
    }

    private static async Task<Setup> SetupAsync(Engine engine)
    {
        var clock = new FakeTimeProvider(SampleData.Epoch);
        var db = await TestDatabase.CreateAsync(engine, clock);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "mouse");
        return new Setup(db, clock, program, await SampleData.SubjectAsync(db, "alice@example.com"));
    }

    private static Task AddAsync(Setup s, string category, int count) =>
        SampleData.AddRecordsAsync(s.Db, Enumerable.Range(0, count)
            .Select(i => new NewRecord(s.Program.Id, s.Program[category], s.Alice, s.Clock.GetUtcNow().AddMinutes(-i), "{}")).ToArray());

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_CountsOnlyRecordsInScopeReceivedAfterThePause(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, "keystrokes", 3);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        var pause = await s.Db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes"], "Complaint about keystroke capture", Priya, Cancellation);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await AddAsync(s, "keystrokes", 2);   // got past the switch
        await AddAsync(s, "mouse", 4);        // not paused

        var results = await s.Db.Get<PauseCheck>().RunAsync(Cancellation);

        var result = Assert.Single(results);
        Assert.Equal(pause.Id, result.PauseId);
        Assert.Equal(2, result.LateRecords);
        Assert.True(result.IsAlert);
        Assert.Equal(["keystrokes"], result.Categories);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_WholeProgramPauseThatHeld_ReportsZero(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, "keystrokes", 3);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await s.Db.Get<PauseSwitch>().PauseAsync("mci", [], "Security review of the whole program", Priya, Cancellation);

        var result = Assert.Single(await s.Db.Get<PauseCheck>().RunAsync(Cancellation));

        Assert.Equal(0, result.LateRecords);
        Assert.False(result.IsAlert);
        Assert.Empty(result.Categories);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_ResumedPause_CountsOnlyWhileItHeld_AndIsCheckedOnceMoreThenLeft(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var pause = await s.Db.Get<PauseSwitch>().PauseAsync("mci", [], "Security review of the whole program", Priya, Cancellation);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await AddAsync(s, "mouse", 1);   // while paused
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await s.Db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Reviewed, collection may go on", Omar, Cancellation);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await AddAsync(s, "mouse", 5);   // after the resume: allowed

        var first = await s.Db.Get<PauseCheck>().RunAsync(Cancellation);
        var second = await s.Db.Get<PauseCheck>().RunAsync(Cancellation);

        Assert.Equal(1, Assert.Single(first).LateRecords);
        Assert.Empty(second);
        var latest = Assert.Single(await s.Db.Get<PauseCheck>().LatestAsync(cancellationToken: Cancellation));
        Assert.Equal((1L, false), (latest.LateRecords, latest.IsActive));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_PauseOpenLongerThanReviewAfterDays_IsDueForReview(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await using var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(s.Clock)
            .AddPortalCore(s.Db.Settings with { Pauses = new PauseOptions(3) }).BuildServiceProvider();
        await s.Db.Get<PauseSwitch>().PauseAsync("mci", ["mouse"], "Waiting for the works council", Priya, Cancellation);

        s.Clock.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        var early = Assert.Single(await services.GetRequiredService<PauseCheck>().RunAsync(Cancellation));
        s.Clock.Advance(TimeSpan.FromMinutes(2));
        var late = Assert.Single(await services.GetRequiredService<PauseCheck>().RunAsync(Cancellation));

        Assert.False(early.ReviewDue);
        Assert.True(late.ReviewDue);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_OfAPauseTakenWhileCollectorsStream_ReportsZero(Engine engine)
    {
        // The real collection path on the real clock: records accepted right up to the pause's commit have
        // earlier received times, so a pause that held is never a false alert.
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await CollectionSamples.ProgramAsync(db.Services, "stream", "keystrokes", "mouse");
        var collection = db.Get<CollectionService>();
        using var stop = new CancellationTokenSource();
        var accepted = 0L;
        var writers = Enumerable.Range(0, 3).Select(writer => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var batch = new CollectBatch(Enumerable.Range(0, 20).Select(i => new IncomingRecord(i, $"person{(writer * 20 + i) % 7}@example.com",
                    i % 2 == 0 ? "keystrokes" : "mouse", DateTimeOffset.UtcNow, """{"n":1}""")).ToList(), []);
                Interlocked.Add(ref accepted, (await collection.IngestAsync(program.Collector, batch, null, Cancellation)).Accepted);
            }
        })).ToList();
        while (Interlocked.Read(ref accepted) < 200)
            await Task.Delay(10, Cancellation);

        await db.Get<PauseSwitch>().PauseAsync("stream", ["keystrokes"], "Complaint about keystroke capture", Priya, Cancellation);
        var atPause = Interlocked.Read(ref accepted);
        while (Interlocked.Read(ref accepted) < atPause + 200)
            await Task.Delay(10, Cancellation);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var result = Assert.Single(await db.Get<PauseCheck>().RunAsync(Cancellation));
        Assert.Equal(0, result.LateRecords);
        await using var connection = await db.OpenAsync();
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records WHERE category_id = @Id", new { Id = program["mouse"] }) > 0);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Check_TwiceInARow_AndTwoAtOnce_StoreTheSameCounts(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await s.Db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes"], "Complaint about keystroke capture", Priya, Cancellation);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await AddAsync(s, "keystrokes", 7);
        var check = s.Db.Get<PauseCheck>();

        var first = await check.RunAsync(Cancellation);
        var second = await check.RunAsync(Cancellation);
        var together = await Task.WhenAll(check.RunAsync(Cancellation), check.RunAsync(Cancellation));

        Assert.All(new[] { first, second, together[0], together[1] }, results => Assert.Equal(7, Assert.Single(results).LateRecords));
        await using var connection = await s.Db.OpenAsync();
        Assert.Equal([7L, 7L, 7L, 7L], await connection.QueryAsync<long>("SELECT late_records FROM pause_checks"));
    }
}
