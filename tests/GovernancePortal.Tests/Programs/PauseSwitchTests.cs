using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Programs;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Programs;

public sealed class PauseSwitchTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    private static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private async Task<TestDatabase> StartAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(new ProgramDraft("mci", "Model Capability Initiative", "Train models", "AI team", LegalBasis.Consent), Priya, Cancellation);
        foreach (var category in new[] { "keystrokes", "mouse_movements", "transcriptions" })
            await editor.AddCategoryAsync("mci", new CategoryDraft(category, category, "", "high", 30), Priya, Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));
        return db;
    }

    private static async Task<MonitoringProgram> ProgramAsync(TestDatabase db) => (await db.Get<ProgramQueries>().GetAsync("mci", Cancellation))!;

    private static async Task<IReadOnlyList<string>> PausedCategoriesAsync(TestDatabase db) =>
        (await ProgramAsync(db)).Categories.Where(c => c.Paused).Select(c => c.Key).Order(StringComparer.Ordinal).ToList();

    private static async Task<IReadOnlyList<AuditEvent>> AuditAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action is "program.paused" or "program.resumed").ToList();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_WholeProgram_SetsItPausedAndRecordsWhoWhenAndWhy(Engine engine)
    {
        await using var db = await StartAsync(engine);

        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "  Transcripts were readable by all staff.  ", Priya, Cancellation);

        Assert.Equal(ProgramState.Paused, (await ProgramAsync(db)).State);
        Assert.Empty(await PausedCategoriesAsync(db));
        var stored = Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
        Assert.Equal((pause.Id, pause.PausedAt, pause.Reason), (stored.Id, stored.PausedAt, stored.Reason));
        Assert.Empty(stored.CategoryKeys);
        Assert.Equal((Priya.Name, SampleData.Epoch.AddHours(1), "Transcripts were readable by all staff."), (stored.PausedBy, stored.PausedAt, stored.Reason));
        Assert.True(stored.IsActive);
        Assert.True(stored.IsWholeProgram);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n ")]
    [InlineData(null)]
    public async Task Pause_WithoutAReason_IsRefusedAndChangesNothing(string? reason)
    {
        await using var db = await StartAsync(Engine.Sqlite);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().PauseAsync("mci", [], reason!, Priya, Cancellation));

        Assert.Equal("reason", refused.Field);
        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        Assert.Empty(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
        Assert.Empty(await AuditAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_ReasonOver2000Characters_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().PauseAsync("mci", [], new string('r', PauseSwitch.MaxTextLength + 1), Priya, Cancellation));

        Assert.Equal("reason", refused.Field);
        Assert.Empty(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
    }

    public static TheoryData<string[]> NotOfficers => new()
    {
        new[] { Roles.Employee },
        new[] { Roles.Auditor, Roles.Employee },
        new[] { Roles.Admin, Roles.Employee },
        new[] { Roles.DataConsumer },
    };

    [Theory, MemberData(nameof(NotOfficers))]
    public async Task Pause_ByAnyoneButAPrivacyOfficer_IsRefused(string[] roles)
    {
        await using var db = await StartAsync(Engine.Sqlite);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
            db.Get<PauseSwitch>().PauseAsync("mci", [], "I don't like it", new Actor("alice@example.com", roles), Cancellation));

        Assert.Contains("privacy officer", refused.Message);
        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        Assert.Empty(await AuditAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_Categories_PausesOnlyThoseAndTheProgramStaysActive(Engine engine)
    {
        await using var db = await StartAsync(engine);

        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", ["transcriptions", "keystrokes", "keystrokes"], "Sensitive content", Priya, Cancellation);

        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        Assert.Equal(["keystrokes", "transcriptions"], await PausedCategoriesAsync(db));
        Assert.False(pause.IsWholeProgram);
        Assert.Equal(["keystrokes", "transcriptions"], Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation)).CategoryKeys);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_UnknownOrRetiredCategory_IsRefusedAndPausesNothing(Engine engine)
    {
        await using var db = await StartAsync(engine);
        await db.Get<ProgramEditor>().RetireCategoryAsync("mci", "mouse_movements", Priya, Cancellation);

        var unknown = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes", "screen_text"], "r", Priya, Cancellation));
        var retired = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().PauseAsync("mci", ["mouse_movements"], "r", Priya, Cancellation));

        Assert.Equal(("categories", "categories"), (unknown.Field, retired.Field));
        Assert.Contains("screen_text", unknown.Message);
        Assert.Empty(await PausedCategoriesAsync(db));
        Assert.Empty(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_WhatIsAlreadyPaused_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        await pauses.PauseAsync("mci", ["keystrokes"], "First", Priya, Cancellation);
        await pauses.PauseAsync("mci", [], "Whole", Priya, Cancellation);

        var categoryAgain = await Assert.ThrowsAsync<RuleViolation>(() => pauses.PauseAsync("mci", ["keystrokes"], "Again", Omar, Cancellation));
        var wholeAgain = await Assert.ThrowsAsync<RuleViolation>(() => pauses.PauseAsync("mci", [], "Again", Omar, Cancellation));

        Assert.Contains("already paused", categoryAgain.Message);
        Assert.Contains("already paused", wholeAgain.Message);
        Assert.Equal(2, (await pauses.HistoryAsync("mci", Cancellation)).Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_UnknownOrRetiredProgram_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);
        await db.Get<ProgramEditor>().RetireAsync("mci", Priya, Cancellation);

        await Assert.ThrowsAsync<NotFoundProblem>(() => db.Get<PauseSwitch>().PauseAsync("no-such-program", [], "r", Priya, Cancellation));
        var retired = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().PauseAsync("mci", [], "r", Priya, Cancellation));

        Assert.Contains("retired", retired.Message);
        Assert.Equal(ProgramState.Retired, (await ProgramAsync(db)).State);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByTheOfficerWhoPaused_IsRefused_TwoPersonRule(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya, Cancellation);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Fixed", Priya, Cancellation));
        var sameInOtherCase = await Assert.ThrowsAsync<RuleViolation>(() =>
            db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Fixed", Priya with { Name = "PRIYA@Example.com" }, Cancellation));

        Assert.Contains("different privacy officer", refused.Message);
        Assert.Contains("different privacy officer", sameInOtherCase.Message);
        Assert.Equal(ProgramState.Paused, (await ProgramAsync(db)).State);
        Assert.True(Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation)).IsActive);
        Assert.DoesNotContain(await AuditAsync(db), e => e.Action == "program.resumed");
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByTheOfficerWhoPaused_UnderAChangedEmail_IsRefused_TheRuleComparesSubjects(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var priyaId = await SampleData.SubjectAsync(db, Priya.Name);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya with { SubjectId = priyaId }, Cancellation);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE subjects SET email = 'priya.sharma@example.com' WHERE id = @priyaId", new { priyaId });
        var priyaRenamed = new Actor("priya.sharma@example.com", [Roles.PrivacyOfficer, Roles.Employee], priyaId);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Fixed", priyaRenamed, Cancellation));

        Assert.Contains("different privacy officer", refused.Message);
        var stored = Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
        Assert.Equal(priyaId, stored.PausedBySubjectId);
        Assert.True(stored.IsActive);
        Assert.Equal(ProgramState.Paused, (await ProgramAsync(db)).State);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByAnotherOfficersSubject_IsAllowed_AndRecordsTheirSubject(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var priyaId = await SampleData.SubjectAsync(db, Priya.Name);
        var omarId = await SampleData.SubjectAsync(db, Omar.Name);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya with { SubjectId = priyaId }, Cancellation);

        await db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Fixed", Omar with { SubjectId = omarId }, Cancellation);

        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        await using var connection = await db.OpenAsync();
        Assert.Equal(omarId, await connection.ExecuteScalarAsync<long?>("SELECT resumed_by_subject_id FROM pauses WHERE id = @Id", new { pause.Id }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByAnotherOfficerWhoNowHasThePausersFormerEmail_IsAllowed_TheDatabaseComparesSubjectsToo(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var priyaId = await SampleData.SubjectAsync(db, Priya.Name);
        var successorId = await SampleData.SubjectAsync(db, "successor@example.com");
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya with { SubjectId = priyaId }, Cancellation);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("""
                UPDATE subjects SET email = 'priya.left@example.com' WHERE id = @priyaId;
                UPDATE subjects SET email = 'priya@example.com' WHERE id = @successorId;
                """, new { priyaId, successorId });
        var successor = new Actor(Priya.Name, [Roles.PrivacyOfficer, Roles.Employee], successorId);

        await db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Reviewed by the new officer", successor, Cancellation);

        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        Assert.False(Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation)).IsActive);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByASecondOfficerWithAResolution_RestoresActiveAndRecordsIt(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromDays(2));

        await db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "  Access narrowed to the model team.  ", Omar, Cancellation);

        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        var resumed = Assert.Single(await db.Get<PauseSwitch>().HistoryAsync("mci", Cancellation));
        Assert.False(resumed.IsActive);
        Assert.Equal((Omar.Name, (DateTimeOffset?)SampleData.Epoch.AddHours(1).AddDays(2), "Access narrowed to the model team."),
            (resumed.ResumedBy, resumed.ResumedAt, resumed.Resolution));
        Assert.Equal((Priya.Name, "Leak"), (resumed.PausedBy, resumed.Reason));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(null)]
    public async Task Resume_WithoutAResolution_IsRefusedAndThePauseHolds(string? resolution)
    {
        await using var db = await StartAsync(Engine.Sqlite);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya, Cancellation);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, resolution!, Omar, Cancellation));

        Assert.Equal("resolution", refused.Field);
        Assert.Equal(ProgramState.Paused, (await ProgramAsync(db)).State);
    }

    [Theory, MemberData(nameof(NotOfficers))]
    public async Task Resume_ByAnyoneButAPrivacyOfficer_IsRefused(string[] roles)
    {
        await using var db = await StartAsync(Engine.Sqlite);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya, Cancellation);

        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Fine by me", new Actor("alice@example.com", roles), Cancellation));

        Assert.Equal(ProgramState.Paused, (await ProgramAsync(db)).State);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_APauseAlreadyResumedOrUnknown_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        var pause = await pauses.PauseAsync("mci", [], "Leak", Priya, Cancellation);
        await pauses.ResumeAsync("mci", pause.Id, "Fixed", Omar, Cancellation);
        await db.Get<ProgramEditor>().RegisterAsync(new ProgramDraft("other", "Other", "p", "o", LegalBasis.Consent), Priya, Cancellation);

        var again = await Assert.ThrowsAsync<RuleViolation>(() => pauses.ResumeAsync("mci", pause.Id, "Again", new Actor("third@example.com", [Roles.PrivacyOfficer]), Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => pauses.ResumeAsync("mci", pause.Id + 1, "r", Omar, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => pauses.ResumeAsync("other", pause.Id, "r", Omar, Cancellation));

        Assert.Contains(Omar.Name, again.Message);
        Assert.Equal("Fixed", Assert.Single(await pauses.HistoryAsync("mci", Cancellation)).Resolution);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ACategoryPause_ReleasesOnlyCategoriesNoOtherActivePauseHolds(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        var first = await pauses.PauseAsync("mci", ["keystrokes", "transcriptions"], "Keylogging review", Priya, Cancellation);
        var second = await pauses.PauseAsync("mci", ["transcriptions", "mouse_movements"], "Transcript leak", Omar, Cancellation);

        await pauses.ResumeAsync("mci", first.Id, "Keylogging reviewed", Omar, Cancellation);
        var afterFirst = await PausedCategoriesAsync(db);
        await pauses.ResumeAsync("mci", second.Id, "Leak closed", Priya, Cancellation);

        Assert.Equal(["mouse_movements", "transcriptions"], afterFirst);
        Assert.Empty(await PausedCategoriesAsync(db));
        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_WholeProgramPause_LeavesAnActiveCategoryPauseInForce(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        var categories = await pauses.PauseAsync("mci", ["keystrokes"], "Keylogging review", Priya, Cancellation);
        var whole = await pauses.PauseAsync("mci", [], "Leak", Priya, Cancellation);

        await pauses.ResumeAsync("mci", categories.Id, "Keylogging reviewed", Omar, Cancellation);
        var stateWhileWholePauseHolds = (await ProgramAsync(db)).State;
        var categoriesPausedAfterCategoryResume = await PausedCategoriesAsync(db);
        await pauses.PauseAsync("mci", ["keystrokes"], "Second look", Omar, Cancellation);
        await pauses.ResumeAsync("mci", whole.Id, "Leak closed", Omar, Cancellation);

        Assert.Equal(ProgramState.Paused, stateWhileWholePauseHolds);
        Assert.Empty(categoriesPausedAfterCategoryResume);
        Assert.Equal(ProgramState.Active, (await ProgramAsync(db)).State);
        Assert.Equal(["keystrokes"], await PausedCategoriesAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task History_ListsEveryPauseNewestFirst(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        var first = await pauses.PauseAsync("mci", [], "First", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));
        await pauses.ResumeAsync("mci", first.Id, "Done", Omar, Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));
        var second = await pauses.PauseAsync("mci", ["transcriptions", "keystrokes"], "Second", Omar, Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));
        var third = await pauses.PauseAsync("mci", [], "Third", Priya, Cancellation);

        var history = await pauses.HistoryAsync("mci", Cancellation);

        Assert.Equal([third.Id, second.Id, first.Id], history.Select(p => p.Id));
        Assert.Equal(["Third", "Second", "First"], history.Select(p => p.Reason));
        Assert.Equal([true, true, false], history.Select(p => p.IsActive));
        Assert.Equal(["keystrokes", "transcriptions"], history[1].CategoryKeys);
        await Assert.ThrowsAsync<NotFoundProblem>(() => pauses.HistoryAsync("no-such-program", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task EveryPauseAndResume_WritesAnAuditEventWithActorProgramAndText(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var pauses = db.Get<PauseSwitch>();
        var whole = await pauses.PauseAsync("mci", [], "Transcripts readable by all staff", Priya, Cancellation);
        var categories = await pauses.PauseAsync("mci", ["keystrokes"], "Keylogging review", Omar, Cancellation);
        await pauses.ResumeAsync("mci", whole.Id, "Access narrowed", Omar, Cancellation);
        await pauses.ResumeAsync("mci", categories.Id, "Keylogging reviewed", Priya, Cancellation);

        var events = await AuditAsync(db);

        Assert.Equal(["program.paused", "program.paused", "program.resumed", "program.resumed"], events.Select(e => e.Action));
        Assert.Equal([Priya.Name, Omar.Name, Omar.Name, Priya.Name], events.Select(e => e.Actor));
        Assert.All(events, e => Assert.Equal("mci", e.Program));
        Assert.All(events, e => Assert.Contains(Roles.PrivacyOfficer, e.ActorRoles));
        Assert.Contains("whole program", events[0].Detail);
        Assert.Contains("Transcripts readable by all staff", events[0].Detail);
        Assert.Contains("keystrokes", events[1].Detail);
        Assert.Contains("Access narrowed", events[2].Detail);
        Assert.Contains(Priya.Name, events[2].Detail);
        Assert.Contains("Keylogging reviewed", events[3].Detail);
    }
}
