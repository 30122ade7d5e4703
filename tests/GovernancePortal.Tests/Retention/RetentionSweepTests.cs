using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Retention;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Retention;

/// <summary>The sample categories keep records 30 days; the clock starts 40 days after <see cref="SampleData.Epoch"/>.</summary>
public sealed class RetentionSweepTests : DatabaseTests
{
    private static readonly DateTimeOffset Now = SampleData.Epoch.AddDays(40);
    private static readonly DateTimeOffset Expired = Now.AddDays(-31);
    private static readonly DateTimeOffset Fresh = Now.AddDays(-29);

    private sealed record Setup(TestDatabase Db, FakeTimeProvider Clock, SampleProgram Program, long Alice, long Bob) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Db.DisposeAsync();
    }

    private static async Task<Setup> SetupAsync(Engine engine)
    {
        var clock = new FakeTimeProvider(Now);
        var db = await TestDatabase.CreateAsync(engine, clock);
        var program = await SampleData.ProgramAsync(db, "mci", "events", "locations");
        return new Setup(db, clock, program, await SampleData.SubjectAsync(db, "alice@example.com"), await SampleData.SubjectAsync(db, "bob@example.com"));
    }

    private static async Task AddAsync(Setup s, long subject, string category, DateTimeOffset capturedAt, int count) =>
        await SampleData.AddRecordsAsync(s.Db, Enumerable.Range(0, count)
            .Select(i => new NewRecord(s.Program.Id, s.Program[category], subject, capturedAt.AddSeconds(-i), "{}")).ToArray());

    private static async Task<long> CountAsync(Setup s, long subject, string category)
    {
        await using var connection = await s.Db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records WHERE subject_id = @subject AND category_id = @category",
            new { subject, category = s.Program[category] });
    }

    private static async Task HoldAsync(Setup s, long? subject, long? program, bool released = false)
    {
        await using var connection = await s.Db.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO legal_holds (subject_id, program_id, reason, placed_by, placed_at, released_by, released_at)
            VALUES (@subject, @program, 'Case 2026-7', 'priya@example.com', @at, @by, @releasedAt)
            """, new { subject, program, at = SampleData.Epoch, by = released ? "priya@example.com" : null, releasedAt = released ? SampleData.Epoch : (DateTimeOffset?)null });
    }

    private static ServiceProvider WithBatchSize(Setup s, int batchSize) =>
        new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(s.Clock)
            .AddPortalCore(s.Db.Settings with { Retention = RetentionOptions.Default with { BatchSize = batchSize } })
            .BuildServiceProvider();

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_DeletesExpiredRecords_KeepsFreshAndHeldOnes_AndCountsTheHeld(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 5);
        await AddAsync(s, s.Alice, "events", Fresh, 3);
        await AddAsync(s, s.Bob, "events", Expired, 4);
        await AddAsync(s, s.Bob, "locations", Expired, 2);
        await HoldAsync(s, s.Bob, s.Program.Id);
        await HoldAsync(s, s.Alice, null, released: true);

        var run = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal(3, await CountAsync(s, s.Alice, "events"));
        Assert.Equal(4, await CountAsync(s, s.Bob, "events"));
        Assert.Equal(2, await CountAsync(s, s.Bob, "locations"));
        Assert.Equal(5, run.Deleted);
        Assert.Equal(6, run.Held);
        var events = run.Categories.Single(c => c.CategoryKey == "events");
        Assert.Equal((5L, 4L), (events.Deleted, events.Held));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_HoldOnAWholeProgram_KeepsEveryonesRecordsThere(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 2);
        await AddAsync(s, s.Bob, "locations", Expired, 2);
        await HoldAsync(s, null, s.Program.Id);

        var run = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal((0L, 4L), (run.Deleted, run.Held));
        Assert.Equal(2, await CountAsync(s, s.Alice, "events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_DeletesInBatchesOfTheConfiguredSize(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 25);
        await using var services = WithBatchSize(s, 10);

        var run = await services.GetRequiredService<RetentionSweep>().RunAsync(Cancellation);

        var events = run.Categories.Single(c => c.CategoryKey == "events");
        Assert.Equal(25, events.Deleted);
        Assert.Equal(3, events.Batches);
        Assert.Equal(0, await CountAsync(s, s.Alice, "events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_RunTwice_SecondDeletesNothing(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 4);
        await AddAsync(s, s.Alice, "events", Fresh, 2);

        var first = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);
        var second = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal(4, first.Deleted);
        Assert.Equal(0, second.Deleted);
        Assert.Equal(2, await CountAsync(s, s.Alice, "events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_SmallBatchesWalkingPastHeldRecordsWithTheSameTimes_DeletesEveryUnheldOne(Engine engine)
    {
        // alice's and bob's records share their captured times, so batches end on ties that only the id breaks.
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 20);
        await AddAsync(s, s.Bob, "events", Expired, 20);
        await AddAsync(s, s.Alice, "events", Fresh, 3);
        await HoldAsync(s, s.Bob, null);
        await using var services = WithBatchSize(s, 3);

        var run = await services.GetRequiredService<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal((20L, 20L), (run.Deleted, run.Held));
        Assert.Equal(3, await CountAsync(s, s.Alice, "events"));
        Assert.Equal(20, await CountAsync(s, s.Bob, "events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task TwoSweepsAtOnce_DeleteEachRecordOnce(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 60);
        await AddAsync(s, s.Bob, "locations", Expired, 40);
        await AddAsync(s, s.Bob, "locations", Fresh, 5);
        await using var one = WithBatchSize(s, 7);
        await using var two = WithBatchSize(s, 7);

        var runs = await Task.WhenAll(
            Task.Run(() => one.GetRequiredService<RetentionSweep>().RunAsync(Cancellation), Cancellation),
            Task.Run(() => two.GetRequiredService<RetentionSweep>().RunAsync(Cancellation), Cancellation));

        Assert.Equal(100, runs.Sum(r => r.Deleted));
        Assert.Equal(0, await CountAsync(s, s.Alice, "events"));
        Assert.Equal(5, await CountAsync(s, s.Bob, "locations"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_CrashedHalfWay_LeavesItsRunUnfinished_AndTheNextRunFinishesTheJob(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 25);
        await AddAsync(s, s.Alice, "events", Fresh, 2);
        await using var services = WithBatchSize(s, 10);
        await using var connection = await s.Db.OpenAsync();
        // The newest expired record is in the third batch: deleting it fails the way a killed worker would.
        var last = await connection.ExecuteScalarAsync<long>("SELECT id FROM records WHERE captured_at <= @Expired ORDER BY captured_at DESC LIMIT 1", new { Expired });
        await connection.ExecuteAsync(engine == Engine.Sqlite
            ? $"CREATE TRIGGER crash BEFORE DELETE ON records WHEN old.id = {last} BEGIN SELECT RAISE(ABORT, 'crash'); END"
            : $$"""
              CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.id = {{last}} THEN RAISE EXCEPTION 'crash'; END IF; RETURN OLD; END $$;
              CREATE TRIGGER crash BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION crash();
              """);

        await Assert.ThrowsAnyAsync<Exception>(() => services.GetRequiredService<RetentionSweep>().RunAsync(Cancellation));
        Assert.Equal(7, await CountAsync(s, s.Alice, "events"));
        await connection.ExecuteAsync(engine == Engine.Sqlite ? "DROP TRIGGER crash" : "DROP TRIGGER crash ON records");
        var rerun = await services.GetRequiredService<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal(5, rerun.Deleted);
        Assert.Equal(2, await CountAsync(s, s.Alice, "events"));
        var runs = await s.Db.Get<RetentionQueries>().RunsAsync(10, 0, Cancellation);
        Assert.Equal([rerun.RunId, rerun.RunId - 1], runs.Select(r => r.Id));
        Assert.Null(runs[1].FinishedAt);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = @Action", new { Action = AuditActions.RecordsPurged }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_RecordsItsRun_AndOneAuditEventBySystemWithTheCounts(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 3);
        await AddAsync(s, s.Bob, "events", Expired, 2);
        await HoldAsync(s, s.Bob, null);

        var run = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);

        var stored = Assert.Single(await s.Db.Get<RetentionQueries>().RunsAsync(10, 0, Cancellation));
        Assert.Equal(run.RunId, stored.Id);
        Assert.Equal(Now, stored.StartedAt);
        Assert.Equal(Now, stored.FinishedAt);
        Assert.Equal((3L, 2L), (stored.RecordsDeleted, stored.RecordsHeld));
        await using var connection = await s.Db.OpenAsync();
        var audit = Assert.Single(await connection.QueryAsync<(string Actor, string Action, long? SubjectId, string Detail, long RecordCount)>(
            "SELECT actor, action, subject_id, detail, record_count FROM audit_events"));
        Assert.Equal(("system", AuditActions.RecordsPurged, (long?)null, 3L), (audit.Actor, audit.Action, audit.SubjectId, audit.RecordCount));
        Assert.Contains("\"program\":\"mci\",\"category\":\"events\",\"deleted\":3,\"held\":2", audit.Detail, StringComparison.Ordinal);
        var counts = await connection.QueryAsync<(long Deleted, long Held)>("SELECT deleted, held FROM retention_run_counts WHERE run_id = @id", new { id = run.RunId });
        Assert.Equal((3L, 2L), Assert.Single(counts));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_TheEmployeesDeletedOnDate_IsWhenTheRecordGoes(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Now.AddDays(-29).AddHours(-23), 1);
        var holdings = Assert.Single((await s.Db.Get<MyDataSummary>().ForProgramAsync(s.Alice, "mci", Cancellation))!.Categories, c => c.RecordCount > 0);
        var deletedOn = holdings.OldestDeletedAt!.Value;

        s.Clock.SetUtcNow(deletedOn.AddTicks(-10));
        await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);
        Assert.Equal(1, await CountAsync(s, s.Alice, "events"));

        // The next hourly run after the promised moment.
        s.Clock.SetUtcNow(deletedOn.AddMinutes(59));
        await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);
        Assert.Equal(0, await CountAsync(s, s.Alice, "events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Compliance_ShowsOldestAgeOverdueAndHeldPerCategory(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", Expired, 3);
        await AddAsync(s, s.Alice, "events", Fresh, 1);
        await AddAsync(s, s.Bob, "events", Expired, 2);
        await HoldAsync(s, s.Bob, s.Program.Id);

        var before = (await s.Db.Get<RetentionQueries>().ComplianceAsync("mci", Cancellation))!;
        await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);
        var after = (await s.Db.Get<RetentionQueries>().ComplianceAsync("mci", Cancellation))!;

        var events = before.Single(c => c.Category.Key == "events");
        Assert.Equal((3L, 2L, false), (events.Overdue, events.Held, events.Compliant));
        Assert.Equal(TimeSpan.FromDays(31).Add(TimeSpan.FromSeconds(2)), events.OldestAge);
        Assert.Null(before.Single(c => c.Category.Key == "locations").OldestAge);
        var swept = after.Single(c => c.Category.Key == "events");
        Assert.Equal((0L, 2L, true), (swept.Overdue, swept.Held, swept.Compliant));
        Assert.Null(await s.Db.Get<RetentionQueries>().ComplianceAsync("nope", Cancellation));
    }
}
