using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Demo;
using GovernancePortal.Grants;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Grants;

/// <summary>Reading under a grant: only its holder, its program and its categories; logged before it is returned; stopped by whatever ends it.</summary>
public sealed class GrantReaderTests : DatabaseTests
{
    private const int PerPerson = GrantWorld.RecordsPerPersonAndCategory;

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_LogsOneEventPerPersonOnThePage_BeforeReturning_WithEverythingTheLogNeeds(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        long before;
        await using (var connection = await db.OpenAsync())
            before = (await connection.AuditEventsAsync()).Count;

        var page = await db.Get<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation);

        Assert.Equal(2 * PerPerson, page.Records.Count);
        Assert.All(page.Records, r => Assert.Equal("keystrokes", r.CategoryKey));
        Assert.All(page.Records, r => Assert.Equal(PayloadState.Open, r.State));
        Assert.Contains(page.Records, r => r.Person == "alice@example.com" && r.Json!.Contains($"keystrokes of {world.Alice}", StringComparison.Ordinal));
        await using var after = await db.OpenAsync();
        var reads = (await after.AuditEventsAsync(before + 1)).ToList();
        Assert.Equal([world.Alice, world.Bob], reads.Select(e => e.SubjectId!.Value).Order());
        Assert.All(reads, e =>
        {
            Assert.Equal(AuditActions.RecordsRead, e.Action);
            Assert.Equal("dana@example.com", e.Actor);
            Assert.Equal("DataConsumer,Employee", e.ActorRoles);
            Assert.Equal("mci", e.Program);
            Assert.Equal(GrantWorld.Purpose, e.Purpose);
            Assert.Equal(PerPerson, e.RecordCount);
            Assert.Equal(id, RecordAccessDetail.Read(e.Detail).GrantId);
            Assert.Equal(["keystrokes"], RecordAccessDetail.Read(e.Detail).Categories);
        });
        var history = await db.Get<AccessHistory>().PageAsync(world.Alice, "alice@example.com", new AccessFilter(), 0, 50, Cancellation);
        Assert.Contains(history.Events, h => h.Actor == "dana@example.com" && h.Action == AuditActions.RecordsRead);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_WhenTheAuditWriteFails_ReturnsNothing_AndLeavesNoTrace(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        await using (var connection = await db.OpenAsync())
        {
            await connection.ExecuteAsync(engine == Engine.Sqlite
                ? "CREATE TRIGGER no_reads BEFORE INSERT ON audit_events WHEN NEW.action = 'records.read' BEGIN SELECT RAISE(ABORT, 'audit store refuses'); END"
                : """
                  CREATE FUNCTION no_reads() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store refuses'; END $$;
                  CREATE TRIGGER no_reads BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.action = 'records.read') EXECUTE FUNCTION no_reads();
                  """);
        }
        GrantReadPage? page = null;

        var failure = await Record.ExceptionAsync(async () => page = await db.Get<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation));

        Assert.Contains("audit store refuses", failure?.Message);
        Assert.Null(page);
        await using var after = await db.OpenAsync();
        Assert.DoesNotContain(await after.AuditEventsAsync(), e => e.Action == AuditActions.RecordsRead);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_AnotherConsumersGrant_OrProgramAsGrantOnProgramB_IsNotFound(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var reader = db.Get<GrantReader>();

        await Assert.ThrowsAsync<NotFoundProblem>(() => reader.ReadAsync("mci", id, new(), 0, 25, world.Erin, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => reader.ReadAsync("other", id, new(), 0, 25, world.Dana, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => reader.ReadAsync("mci", id + 1000, new(), 0, 25, world.Dana, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => reader.ReadAsync("mci", id, new(), 0, 25, world.Priya, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => reader.StopReasonAsync("mci", id, world.Erin, Cancellation));
        await using var connection = await db.OpenAsync();
        Assert.DoesNotContain(await connection.AuditEventsAsync(), e => e.Action == AuditActions.RecordsRead);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_CategoriesOutsideTheGrant_AreRefused_AndAHugePageSizeIsClamped(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var reader = db.Get<GrantReader>();

        var outside = await Assert.ThrowsAsync<RuleViolation>(() => reader.ReadAsync("mci", id, new(["keystrokes", "transcriptions"]), 0, 25, world.Dana, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => reader.ReadAsync("mci", id, new(["performance_data"]), 0, 25, world.Dana, Cancellation));
        var huge = await reader.ReadAsync("mci", id, new(), 0, 1_000_000, world.Dana, Cancellation);
        var negative = await reader.ReadAsync("mci", id, new(), -5, -5, world.Dana, Cancellation);

        Assert.Equal("categories", outside.Field);
        Assert.Equal(GrantReader.MaxPageSize, huge.Limit);
        Assert.All(huge.Records, r => Assert.Equal("keystrokes", r.CategoryKey));
        Assert.Equal((0, 1, 1), (negative.Offset, negative.Limit, negative.Records.Count));
        Assert.True(negative.HasMore);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_FiltersByCategoryPersonAndCapturedDates_AndPages(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");
        var reader = db.Get<GrantReader>();

        var bobs = await reader.ReadAsync("mci", id, new(Person: " Bob@Example.com "), 0, 100, world.Dana, Cancellation);
        var transcriptions = await reader.ReadAsync("mci", id, new(["transcriptions"]), 0, 100, world.Dana, Cancellation);
        var window = await reader.ReadAsync("mci", id, new(From: SampleData.Epoch.AddHours(2), To: SampleData.Epoch.AddHours(4)), 0, 100, world.Dana, Cancellation);
        var nobody = await reader.ReadAsync("mci", id, new(Person: "nobody@example.com"), 0, 100, world.Dana, Cancellation);
        var first = await reader.ReadAsync("mci", id, new(), 0, 5, world.Dana, Cancellation);
        var second = await reader.ReadAsync("mci", id, new(), 5, 5, world.Dana, Cancellation);

        Assert.Equal(2 * PerPerson, bobs.Records.Count);
        Assert.All(bobs.Records, r => Assert.Equal(world.Bob, r.SubjectId));
        Assert.Equal(2 * PerPerson, transcriptions.Records.Count);
        Assert.All(transcriptions.Records, r => Assert.Equal("transcriptions", r.CategoryKey));
        Assert.Equal(2 * 2 * 2, window.Records.Count);
        Assert.All(window.Records, r => Assert.InRange(r.CapturedAt, SampleData.Epoch.AddHours(2), SampleData.Epoch.AddHours(4).AddTicks(-1)));
        Assert.Empty(nobody.Records);
        Assert.True(first.HasMore);
        Assert.Empty(first.Records.Select(r => r.Id).Intersect(second.Records.Select(r => r.Id)));
        Assert.True(first.Records.Zip(first.Records.Skip(1)).All(p => p.First.CapturedAt >= p.Second.CapturedAt));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_StopsWhenAnOfficerEndsTheGrant_AndWhenItsEndPasses(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var ended = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var expiring = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var reader = db.Get<GrantReader>();
        await db.Get<GrantDesk>().EndAsync(ended, "Leak under investigation", world.Omar, Cancellation);
        await using var later = db.BuildServices(time: new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(31)));

        var byOfficer = await Assert.ThrowsAsync<GrantStopped>(() => reader.ReadAsync("mci", ended, new(), 0, 25, world.Dana, Cancellation));
        var byTime = await Assert.ThrowsAsync<GrantStopped>(() => later.GetRequiredService<GrantReader>().ReadAsync("mci", expiring, new(), 0, 25, world.Dana, Cancellation));

        Assert.Contains("ended this grant", byOfficer.Message);
        Assert.Contains("Leak under investigation", byOfficer.Message);
        Assert.Contains("this grant ended", byTime.Message);
        Assert.NotNull(await reader.StopReasonAsync("mci", ended, world.Dana, Cancellation));
        Assert.Null(await reader.StopReasonAsync("mci", expiring, world.Dana, Cancellation));
        await using var connection = await db.OpenAsync();
        Assert.DoesNotContain(await connection.AuditEventsAsync(), e => e.Action == AuditActions.RecordsRead);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_StopsWhileTheProgramIsPaused_AndLeavesOutAPausedCategory(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");
        var reader = db.Get<GrantReader>();
        var pauses = db.Get<PauseSwitch>();

        var pause = await pauses.PauseAsync("mci", ["transcriptions"], "Transcripts under review", world.Priya, Cancellation);
        var partial = await reader.ReadAsync("mci", id, new(), 0, 100, world.Dana, Cancellation);
        var onlyPaused = await Assert.ThrowsAsync<GrantStopped>(() => reader.ReadAsync("mci", id, new(["transcriptions"]), 0, 100, world.Dana, Cancellation));
        await pauses.ResumeAsync("mci", pause.Id, "Reviewed", world.Omar, Cancellation);
        await pauses.PauseAsync("mci", [], "Everything under review", world.Priya, Cancellation);
        var whole = await Assert.ThrowsAsync<GrantStopped>(() => reader.ReadAsync("mci", id, new(), 0, 100, world.Dana, Cancellation));

        Assert.Equal(["transcriptions"], partial.PausedCategories);
        Assert.All(partial.Records, r => Assert.Equal("keystrokes", r.CategoryKey));
        Assert.Equal(2 * PerPerson, partial.Records.Count);
        Assert.Contains("paused", onlyPaused.Message);
        Assert.Contains("program is paused", whole.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_APersonsWithdrawalOrObjection_HidesTheirRecordsOfThatScope_ErasedOrNot(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");
        var reader = db.Get<GrantReader>();
        var alice = new Actor("alice@example.com", [Roles.Employee], world.Alice);
        var bob = new Actor("bob@example.com", [Roles.Employee], world.Bob);

        await db.Get<Revocations>().RevokeAsync(world.Alice, "mci", "transcriptions", alice, Cancellation);
        var afterAlice = await reader.ReadAsync("mci", id, new(), 0, 100, world.Dana, Cancellation);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE programs SET legal_basis = 'legitimate_interest' WHERE key = 'mci'");
        await db.Get<Withdrawals>().WithdrawAsync(world.Bob, "mci", null, bob, Cancellation);
        var afterBob = await reader.ReadAsync("mci", id, new(), 0, 100, world.Dana, Cancellation);

        Assert.DoesNotContain(afterAlice.Records, r => r.SubjectId == world.Alice && r.CategoryKey == "transcriptions");
        Assert.Equal(3 * PerPerson, afterAlice.Records.Count);
        Assert.DoesNotContain(afterBob.Records, r => r.SubjectId == world.Bob);
        Assert.Equal(PerPerson, afterBob.Records.Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_ALegalHold_OpensNothing_ThatARevocationHides(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("INSERT INTO legal_holds (subject_id, program_id, reason, placed_by, placed_at) VALUES (@Subject, @Program, 'litigation', 'priya@example.com', @Now)",
                new { Subject = world.Alice, Program = world.Mci.Id, Now = DateTimeOffset.UtcNow });
        await db.Get<Revocations>().RevokeAsync(world.Alice, "mci", null, new Actor("alice@example.com", [Roles.Employee], world.Alice), Cancellation);

        var page = await db.Get<GrantReader>().ReadAsync("mci", id, new(), 0, 100, world.Dana, Cancellation);

        Assert.DoesNotContain(page.Records, r => r.SubjectId == world.Alice);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Demo_DanasFirstRead_AppearsOnAlicesAccessHistory_WithPurposeAndGrant(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);
        var dana = (await db.Get<GrantQueries>().ForUserAsync("dana@example.com", Cancellation)).Single();
        var danaId = dana.PrincipalSubjectId!.Value;
        var alice = await Collection.CollectionSamples.SubjectIdAsync(db, "alice@example.com");

        var page = await db.Get<GrantReader>().ReadAsync("mci", dana.Id, new(Person: "alice@example.com"), 0, 25,
            new Actor("dana@example.com", [Roles.DataConsumer, Roles.Employee], danaId), Cancellation);

        Assert.Equal(25, page.Records.Count);
        Assert.All(page.Records, r => Assert.Contains(r.CategoryKey, new[] { "keystrokes", "mouse_movements" }));
        var history = await db.Get<AccessHistory>().PageAsync(alice, "alice@example.com", new AccessFilter(), 0, 50, Cancellation);
        var read = Assert.Single(history.Events, e => e.Action == AuditActions.RecordsRead);
        Assert.Equal("dana@example.com", read.Actor);
        Assert.Equal(DemoData.DanaPurpose, read.Purpose);
        Assert.Equal(25, read.RecordCount);
    }
}
