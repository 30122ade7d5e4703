using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Programs;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Programs;

public sealed class ProgramEditorTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    private static readonly Actor Alice = new("alice@example.com", [Roles.Employee]);

    private static readonly ProgramDraft Mci = new("mci", "Model Capability Initiative", "Train assistants on real work", "AI platform team", LegalBasis.Consent);
    private static readonly CategoryDraft Keystrokes = new("keystrokes", "Keystrokes", "Every key typed in work apps", "high", 30);

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private static async Task<MonitoringProgram?> FindAsync(TestDatabase db, string key = "mci") => await db.Get<ProgramQueries>().GetAsync(key, Cancellation);

    private static async Task<IReadOnlyList<AuditEvent>> AuditAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await connection.AuditEventsAsync();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Register_ADraft_CreatesAnActiveProgramAndAuditsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);

        var program = await db.Get<ProgramEditor>().RegisterAsync(
            new ProgramDraft(" mci ", " Model Capability Initiative ", " Train assistants ", " AI team ", " consent "), Priya, Cancellation);

        Assert.Equal(("mci", "Model Capability Initiative", "Train assistants", "AI team", LegalBasis.Consent, ProgramState.Active, SampleData.Epoch),
            (program.Key, program.Name, program.Purpose, program.Owner, program.LegalBasis, program.State, program.CreatedAt));
        Assert.Empty(program.Categories);
        Assert.Equal((program.Id, ProgramState.Active), ((await FindAsync(db))!.Id, (await FindAsync(db))!.State));
        var registered = Assert.Single(await AuditAsync(db));
        Assert.Equal(("program.registered", Priya.Name, "mci"), (registered.Action, registered.Actor, registered.Program));
        Assert.Contains("Model Capability Initiative", registered.Detail);
        Assert.Contains("consent", registered.Detail);
    }

    public static TheoryData<string, ProgramDraft, string, string> BadPrograms => new()
    {
        { "upper-case key", Mci with { Key = "MCI" }, "key", "key" },
        { "empty key", Mci with { Key = "" }, "key", "key" },
        { "key with a space", Mci with { Key = "model capability" }, "key", "key" },
        { "key with an underscore", Mci with { Key = "model_capability" }, "key", "key" },
        { "key starting with a dash", Mci with { Key = "-mci" }, "key", "key" },
        { "key of 64 characters", Mci with { Key = new string('m', 64) }, "key", "key" },
        { "no name", Mci with { Name = "  " }, "name", "name" },
        { "name of 201 characters", Mci with { Name = new string('n', 201) }, "name", "name" },
        { "no purpose", Mci with { Purpose = "" }, "purpose", "purpose" },
        { "no owner", Mci with { Owner = null! }, "owner", "owner" },
        { "unknown legal basis", Mci with { LegalBasis = "because" }, "legalBasis", "legal basis" },
        { "no legal basis", Mci with { LegalBasis = "" }, "legalBasis", "legal basis" },
    };

    [Theory, MemberData(nameof(BadPrograms))]
    public async Task Register_AnInvalidDraft_IsRefusedWithAMessageNamingTheField(string why, ProgramDraft draft, string field, string named)
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite, _clock);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<ProgramEditor>().RegisterAsync(draft, Priya, Cancellation));

        Assert.True(field == refused.Field, $"{why}: field {refused.Field}");
        Assert.Contains(named, refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await db.Get<ProgramQueries>().ListAsync(Cancellation));
        Assert.Empty(await AuditAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Register_ATakenKey_IsRefusedNamingTheKey(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(Mci, Priya, Cancellation);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<ProgramEditor>().RegisterAsync(Mci with { Name = "Another" }, Priya, Cancellation));

        Assert.Equal("key", refused.Field);
        Assert.Contains("'mci'", refused.Message);
        Assert.Equal("Model Capability Initiative", Assert.Single(await db.Get<ProgramQueries>().ListAsync(Cancellation)).Name);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AnyChange_ByANonOfficer_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);
        var auditor = new Actor("audrey@example.com", [Roles.Auditor, Roles.Employee]);

        await Assert.ThrowsAsync<RuleViolation>(() => editor.RegisterAsync(Mci with { Key = "other" }, Alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => editor.UpdateAsync("mci", Mci with { Name = "Renamed" }, auditor, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => editor.RetireAsync("mci", Alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => editor.AddCategoryAsync("mci", Keystrokes with { Key = "screen" }, Alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => editor.UpdateCategoryAsync("mci", "keystrokes", Keystrokes with { RetentionDays = 3650 }, Alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => editor.RetireCategoryAsync("mci", "keystrokes", Alice, Cancellation));

        var program = Assert.Single(await db.Get<ProgramQueries>().ListAsync(Cancellation));
        Assert.Equal(("Model Capability Initiative", ProgramState.Active), (program.Name, program.State));
        var category = Assert.Single(program.Categories);
        Assert.Equal((30, (DateTimeOffset?)null), (category.RetentionDays, category.RetiredAt));
        Assert.Equal(2, (await AuditAsync(db)).Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Update_ChangesNamePurposeOwnerAndLegalBasis_ButNeverTheKey(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(Mci, Priya, Cancellation);

        await db.Get<ProgramEditor>().UpdateAsync("mci", new ProgramDraft("renamed-key", "MCI v2", "Evaluate assistants", "Research", LegalBasis.LegitimateInterest), Priya, Cancellation);

        var program = await FindAsync(db);
        Assert.Equal(("mci", "MCI v2", "Evaluate assistants", "Research", LegalBasis.LegitimateInterest),
            (program!.Key, program.Name, program.Purpose, program.Owner, program.LegalBasis));
        Assert.Null(await FindAsync(db, "renamed-key"));
        var updated = (await AuditAsync(db))[^1];
        Assert.Equal(("program.updated", "mci"), (updated.Action, updated.Program));
        Assert.Contains("MCI v2", updated.Detail);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Update_AnInvalidDraft_NamesTheFieldAndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(Mci, Priya, Cancellation);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<ProgramEditor>().UpdateAsync("mci", Mci with { Owner = "" }, Priya, Cancellation));

        Assert.Equal("owner", refused.Field);
        Assert.Equal("AI platform team", (await FindAsync(db))!.Owner);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Changes_ToAnUnknownProgram_AreNotFound(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();

        await Assert.ThrowsAsync<NotFoundProblem>(() => editor.UpdateAsync("nope", Mci, Priya, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => editor.RetireAsync("nope", Priya, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => editor.AddCategoryAsync("nope", Keystrokes, Priya, Cancellation));
        Assert.Empty(await AuditAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Retire_EndsTheProgramForGood_AndItRefusesEveryLaterChange(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);

        await editor.RetireAsync("mci", Priya, Cancellation);

        Assert.Equal(ProgramState.Retired, (await FindAsync(db))!.State);
        var refusals = new[]
        {
            await Assert.ThrowsAsync<RuleViolation>(() => editor.UpdateAsync("mci", Mci with { Name = "Back" }, Priya, Cancellation)),
            await Assert.ThrowsAsync<RuleViolation>(() => editor.AddCategoryAsync("mci", Keystrokes with { Key = "screen" }, Priya, Cancellation)),
            await Assert.ThrowsAsync<RuleViolation>(() => editor.UpdateCategoryAsync("mci", "keystrokes", Keystrokes with { RetentionDays = 90 }, Priya, Cancellation)),
            await Assert.ThrowsAsync<RuleViolation>(() => editor.RetireCategoryAsync("mci", "keystrokes", Priya, Cancellation)),
            await Assert.ThrowsAsync<RuleViolation>(() => editor.RetireAsync("mci", Priya, Cancellation)),
        };
        Assert.All(refusals, refused => Assert.Contains("retired", refused.Message));
        var program = await FindAsync(db);
        Assert.Equal(("Model Capability Initiative", 30), (program!.Name, Assert.Single(program.Categories).RetentionDays));
        Assert.Equal(["program.registered", "category.added", "program.retired"], (await AuditAsync(db)).Select(e => e.Action));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AddCategory_StoresItsSensitivityAndRetention_AndAuditsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(Mci, Priya, Cancellation);

        await db.Get<ProgramEditor>().AddCategoryAsync("mci", new CategoryDraft(" transcriptions ", " Meeting transcriptions ", " What was said ", "special", 3650), Priya, Cancellation);
        await db.Get<ProgramEditor>().AddCategoryAsync("mci", new CategoryDraft("mouse_movements", "Mouse", "", "low", 1), Priya, Cancellation);

        var categories = (await FindAsync(db))!.Categories;
        Assert.Equal(["transcriptions", "mouse_movements"], categories.Select(c => c.Key));
        Assert.Equal(("Meeting transcriptions", "What was said", "special", 3650, false, (DateTimeOffset?)null),
            (categories[0].Name, categories[0].Description, categories[0].Sensitivity, categories[0].RetentionDays, categories[0].Paused, categories[0].RetiredAt));
        var added = (await AuditAsync(db)).Where(e => e.Action == "category.added").ToList();
        Assert.Equal(2, added.Count);
        Assert.Contains("transcriptions", added[0].Detail);
        Assert.Contains("3650 days", added[0].Detail);
    }

    public static TheoryData<string, CategoryDraft, string, string> BadCategories => new()
    {
        { "upper-case key", Keystrokes with { Key = "Keystrokes" }, "key", "key" },
        { "empty key", Keystrokes with { Key = " " }, "key", "key" },
        { "key with a dot", Keystrokes with { Key = "key.strokes" }, "key", "key" },
        { "no name", Keystrokes with { Name = "" }, "name", "name" },
        { "unknown sensitivity", Keystrokes with { Sensitivity = "extreme" }, "sensitivity", "sensitivity" },
        { "no sensitivity", Keystrokes with { Sensitivity = null! }, "sensitivity", "sensitivity" },
        { "retention of zero days", Keystrokes with { RetentionDays = 0 }, "retentionDays", "retention" },
        { "negative retention", Keystrokes with { RetentionDays = -30 }, "retentionDays", "retention" },
        { "retention over ten years", Keystrokes with { RetentionDays = ProgramEditor.MaxRetentionDays + 1 }, "retentionDays", "retention" },
        { "description of 2001 characters", Keystrokes with { Description = new string('d', 2001) }, "description", "description" },
    };

    [Theory, MemberData(nameof(BadCategories))]
    public async Task AddCategory_AnInvalidDraft_IsRefusedWithAMessageNamingTheField(string why, CategoryDraft draft, string field, string named)
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(Mci, Priya, Cancellation);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<ProgramEditor>().AddCategoryAsync("mci", draft, Priya, Cancellation));

        Assert.True(field == refused.Field, $"{why}: field {refused.Field}");
        Assert.Contains(named, refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty((await FindAsync(db))!.Categories);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AddCategory_AKeyTheProgramHas_IsRefusedNamingTheKey_EvenWhenThatCategoryIsRetired(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);

        var taken = await Assert.ThrowsAsync<RuleViolation>(() => editor.AddCategoryAsync("mci", Keystrokes with { Name = "Again" }, Priya, Cancellation));
        await editor.RetireCategoryAsync("mci", "keystrokes", Priya, Cancellation);
        var takenByRetired = await Assert.ThrowsAsync<RuleViolation>(() => editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation));

        Assert.Equal(("key", "key"), (taken.Field, takenByRetired.Field));
        Assert.Single((await FindAsync(db))!.Categories);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task UpdateCategory_ChangesItsTermsButNotItsKey_AndAuditsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);

        await editor.UpdateCategoryAsync("mci", "keystrokes", new CategoryDraft("ignored", "Typed text", "Text typed in chat", "special", 7), Priya, Cancellation);

        var category = Assert.Single((await FindAsync(db))!.Categories);
        Assert.Equal(("keystrokes", "Typed text", "Text typed in chat", "special", 7), (category.Key, category.Name, category.Description, category.Sensitivity, category.RetentionDays));
        var updated = (await AuditAsync(db))[^1];
        Assert.Equal("category.updated", updated.Action);
        Assert.Contains("7 days", updated.Detail);
        await Assert.ThrowsAsync<NotFoundProblem>(() => editor.UpdateCategoryAsync("mci", "screen_text", Keystrokes, Priya, Cancellation));
        var invalid = await Assert.ThrowsAsync<RuleViolation>(() => editor.UpdateCategoryAsync("mci", "keystrokes", Keystrokes with { RetentionDays = 0 }, Priya, Cancellation));
        Assert.Equal("retentionDays", invalid.Field);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RetireCategory_MarksItRetiredOnce_AndAuditsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);
        _clock.Advance(TimeSpan.FromDays(1));

        await editor.RetireCategoryAsync("mci", "keystrokes", Priya, Cancellation);
        var again = await Assert.ThrowsAsync<RuleViolation>(() => editor.RetireCategoryAsync("mci", "keystrokes", Priya, Cancellation));

        Assert.Equal(SampleData.Epoch.AddDays(1), Assert.Single((await FindAsync(db))!.Categories).RetiredAt);
        Assert.Contains("retired already", again.Message);
        await Assert.ThrowsAsync<NotFoundProblem>(() => editor.RetireCategoryAsync("mci", "screen_text", Priya, Cancellation));
        Assert.Equal(["program.registered", "category.added", "category.retired"], (await AuditAsync(db)).Select(e => e.Action));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task EveryChange_IsOneAuditEventByTheOfficerOnThatProgram(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var editor = db.Get<ProgramEditor>();

        await editor.RegisterAsync(Mci, Priya, Cancellation);
        await editor.UpdateAsync("mci", Mci with { Purpose = "Evaluate" }, Priya, Cancellation);
        await editor.AddCategoryAsync("mci", Keystrokes, Priya, Cancellation);
        await editor.UpdateCategoryAsync("mci", "keystrokes", Keystrokes with { RetentionDays = 14 }, Priya, Cancellation);
        await editor.RetireCategoryAsync("mci", "keystrokes", Priya, Cancellation);
        await editor.RetireAsync("mci", Priya, Cancellation);

        var events = await AuditAsync(db);
        Assert.Equal(["program.registered", "program.updated", "category.added", "category.updated", "category.retired", "program.retired"], events.Select(e => e.Action));
        Assert.All(events, e => Assert.Equal((Priya.Name, "mci"), (e.Actor, e.Program)));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.All(events.Skip(1).Zip(events), pair => Assert.Equal(pair.Second.Hash, pair.First.PrevHash));
    }
}
