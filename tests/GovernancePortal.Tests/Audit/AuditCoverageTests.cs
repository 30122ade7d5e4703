using System.Reflection;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Grants;
using GovernancePortal.Holds;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Grants;

namespace GovernancePortal.Tests.Audit;

/// <summary>
/// docs/audit-log.md: everything that matters is logged. Every public library method a person acts through (it
/// takes an <see cref="Actor"/>) is listed here with the event it must leave, and is called to prove it; or with
/// the reason it writes none (the asynchronous ones: the actions; rules such as <c>Pause.WasPausedBy</c> only compare).
/// A new such method without an entry fails <see cref="EveryMethodTakingAnActor_IsListed"/>.
/// </summary>
public sealed class AuditCoverageTests : DatabaseTests
{
    private sealed record Case(string? Action, string? Exempt, Func<Scene, Task>? Run);

    /// <summary>The grant world with an active grant of dana's, alice's open objection and export request.</summary>
    private sealed record Scene(TestDatabase Db, GrantWorld World, long Grant, DataRequest Objection, DataRequest Export)
    {
        public T Get<T>() where T : notnull => Db.Get<T>();
        public Actor Alice => new("alice@example.com", [Roles.Employee], World.Alice);
    }

    private static Case Writes(string action, Func<Scene, Task> run) => new(action, null, run);

    private static Case WritesNothing(string because) => new(null, because, null);

    private static readonly Dictionary<string, Case> Methods = new(StringComparer.Ordinal)
    {
        ["AccessEvents.SignedInAsync"] = Writes(AuditActions.SignedIn, s => s.Get<AccessEvents>().SignedInAsync(s.Alice, "OpenID Connect")),
        ["AccessEvents.SignedOutAsync"] = Writes(AuditActions.SignedOut, s => s.Get<AccessEvents>().SignedOutAsync(s.Alice, everywhere: false)),
        ["AccessEvents.AuthorizationRefusedAsync"] = Writes(AuditActions.AccessRefused, s => s.Get<AccessEvents>().AuthorizationRefusedAsync(s.Alice, "/audit")),
        ["PauseSwitch.PauseAsync"] = Writes(AuditActions.ProgramPaused, s => s.Get<PauseSwitch>().PauseAsync("mci", [], "Leak under investigation", s.World.Priya)),
        ["PauseSwitch.ResumeAsync"] = Writes(AuditActions.ProgramResumed, async s =>
        {
            var pause = await s.Get<PauseSwitch>().PauseAsync("mci", [], "Leak under investigation", s.World.Priya);
            await s.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Access narrowed to the model team", s.World.Omar);
        }),
        ["ProgramEditor.RegisterAsync"] = Writes(AuditActions.ProgramRegistered, s => s.Get<ProgramEditor>().RegisterAsync(
            new ProgramDraft("newprog", "New program", "Train models", "AI team", LegalBasis.Consent), s.World.Priya)),
        ["ProgramEditor.UpdateAsync"] = Writes(AuditActions.ProgramUpdated, s => s.Get<ProgramEditor>().UpdateAsync(
            "mci", new ProgramDraft("mci", "MCI v2", "Evaluate assistants", "Research", LegalBasis.LegitimateInterest), s.World.Priya)),
        ["ProgramEditor.RetireAsync"] = Writes(AuditActions.ProgramRetired, s => s.Get<ProgramEditor>().RetireAsync("other", s.World.Priya)),
        ["ProgramEditor.AddCategoryAsync"] = Writes(AuditActions.CategoryAdded, s => s.Get<ProgramEditor>().AddCategoryAsync(
            "mci", new CategoryDraft("mouse_movements", "Mouse", "", "low", 30), s.World.Priya)),
        ["ProgramEditor.UpdateCategoryAsync"] = Writes(AuditActions.CategoryUpdated, s => s.Get<ProgramEditor>().UpdateCategoryAsync(
            "mci", "keystrokes", new CategoryDraft("keystrokes", "Typed text", "Text typed in chat", "high", 7), s.World.Priya)),
        ["ProgramEditor.RetireCategoryAsync"] = Writes(AuditActions.CategoryRetired, s => s.Get<ProgramEditor>().RetireCategoryAsync("mci", "keystrokes", s.World.Priya)),
        ["CollectorRegistry.CreateAsync"] = Writes(AuditActions.CollectorCreated, s => s.Get<CollectorRegistry>().CreateAsync("mci", "Laptop agent", s.World.Priya)),
        ["CollectorRegistry.RevokeAsync"] = Writes(AuditActions.CollectorRevoked, async s =>
        {
            var (collector, _) = await s.Get<CollectorRegistry>().CreateAsync("mci", "Laptop agent", s.World.Priya);
            await s.Get<CollectorRegistry>().RevokeAsync("mci", collector.Id, s.World.Priya);
        }),
        ["GrantDesk.AskAsync"] = Writes(AuditActions.GrantRequested, s => s.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), s.World.Erin)),
        ["GrantDesk.ReviewAsync"] = Writes(AuditActions.GrantDenied, async s =>
        {
            var id = await s.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), s.World.Erin);
            await s.Get<GrantDesk>().ReviewAsync(id, approve: false, "Not needed for this purpose", s.World.Priya);
        }),
        ["GrantDesk.EndAsync"] = Writes(AuditActions.GrantEnded, s => s.Get<GrantDesk>().EndAsync(s.Grant, "Study finished", s.World.Omar)),
        ["GrantReader.ReadAsync"] = Writes(AuditActions.RecordsRead, s => s.Get<GrantReader>().ReadAsync("mci", s.Grant, new(), 0, 25, s.World.Dana)),
        ["GrantReader.StopReasonAsync"] = WritesNothing("says whether the holder's own grant allows a read now; reads no record"),
        ["GrantQueries.ForOfficersAsync"] = WritesNothing("the officers' list of grants: staff's asks and decisions, no employee's personal data"),
        ["GrantQueries.DetailAsync"] = WritesNothing("one grant's asks, reviews and end: staff's actions, no employee's personal data"),
        ["GrantExposure.ReportAsync"] = WritesNothing("counts of people read per grant and who the readers are (staff); no employee is named"),
        ["AuditSearch.SearchAsync"] = Writes(AuditActions.AuditSearched, s => s.Get<AuditSearch>().SearchAsync(AuditQuery.None, AuditPageAt.Newest, 20, new Actor("audrey@example.com", [Roles.Auditor]))),
        ["RequestDesk.SubmitAsync"] = Writes(AuditActions.ErasureReceived, s => s.Get<RequestDesk>().SubmitAsync(s.World.Bob, RequestKind.Erasure, "mci", null,
            new Actor("bob@example.com", [Roles.Employee], s.World.Bob))),
        ["RequestDesk.QueueAsync"] = Writes(AuditActions.RequestQueueViewed, s => s.Get<RequestDesk>().QueueAsync(new RequestQueueFilter(), 0, 50, s.World.Priya)),
        ["RequestDesk.OpenAsync"] = Writes(AuditActions.RequestViewed, s => s.Get<RequestDesk>().OpenAsync(s.Objection.Reference, s.World.Priya)),
        ["RequestDesk.ExtendAsync"] = Writes(AuditActions.RequestExtended, s => s.Get<RequestDesk>().ExtendAsync(
            s.Objection.Reference, s.Objection.DueAt.AddDays(30), "The case needs the works council's view", s.World.Priya)),
        ["RequestDesk.DecideObjectionAsync"] = Writes(AuditActions.ObjectionUpheld, s => s.Get<RequestDesk>().DecideObjectionAsync(
            s.Objection.Reference, uphold: true, "The monitoring is not necessary for the purpose", s.World.Priya)),
        ["RequestDesk.ExportDeliveredAsync"] = Writes(AuditActions.ExportDelivered, async s =>
        {
            var receipt = await s.Get<SubjectExport>().WriteAsync(s.World.Alice, s.Export, new MemoryStream(), s.Alice);
            await s.Get<RequestDesk>().ExportDeliveredAsync(s.Export, receipt, s.Alice);
        }),
        ["SubjectExport.WriteAsync"] = WritesNothing("writes the person's own copy; its delivery is logged by RequestDesk.ExportDeliveredAsync once complete"),
        ["Withdrawals.WithdrawAsync"] = Writes(AuditActions.SubjectRevoked, s => s.Get<Withdrawals>().WithdrawAsync(
            s.World.Bob, "mci", null, new Actor("bob@example.com", [Roles.Employee], s.World.Bob))),
        ["Revocations.RevokeAsync"] = Writes(AuditActions.SubjectRevoked, s => s.Get<Revocations>().RevokeAsync(
            s.World.Bob, "mci", "keystrokes", new Actor("bob@example.com", [Roles.Employee], s.World.Bob))),
        ["Revocations.RejoinAsync"] = Writes(AuditActions.SubjectRejoined, async s =>
        {
            var bob = new Actor("bob@example.com", [Roles.Employee], s.World.Bob);
            await s.Get<Revocations>().RevokeAsync(s.World.Bob, "mci", "keystrokes", bob);
            await s.Get<Revocations>().RejoinAsync(s.World.Bob, "mci", "keystrokes", bob);
        }),
        ["LegalHolds.PlaceAsync"] = Writes(AuditActions.HoldPlaced, s => s.Get<LegalHolds>().PlaceAsync(Hold("bob@example.com"), s.World.Priya)),
        ["LegalHolds.ReleaseAsync"] = Writes(AuditActions.HoldReleased, async s =>
        {
            var hold = await s.Get<LegalHolds>().PlaceAsync(Hold("bob@example.com"), s.World.Priya);
            await s.Get<LegalHolds>().ReleaseAsync(hold.Id, "The case is closed", s.World.Omar);
        }),
        ["LegalHolds.ListAsync"] = Writes(AuditActions.HoldsViewed, async s =>
        {
            await s.Get<LegalHolds>().PlaceAsync(Hold("bob@example.com"), s.World.Priya);
            await s.Get<LegalHolds>().ListAsync(s.World.Omar, activeOnly: true);
        }),
        ["LegalHolds.DueForReviewAsync"] = WritesNothing("the officers' reminder of holds near their review date: case references and dates; the list of holds itself is logged"),
        ["OfficerHome.SummaryAsync"] = WritesNothing("the officers' home counts: requests due, pause alerts, records past retention, holds to review, failed jobs; nobody named"),
        ["AuditExport.StartAsync"] = Writes(AuditActions.AuditExported, s => s.Get<AuditExport>().StartAsync(null, null, "csv", new Actor("audrey@example.com", [Roles.Auditor]))),
        ["AuditExport.ManifestAsync"] = Writes(AuditActions.AuditManifestSigned, s => s.Get<AuditExport>().ManifestAsync(null, null, "csv", new Actor("audrey@example.com", [Roles.Auditor]))),
        ["SigningKeys.RotateAsync"] = Writes(AuditActions.SigningKeyCreated, s => s.Get<SigningKeys>().RotateAsync(new Actor("gp (root)", []))),
    };

    private static HoldPlacement Hold(string person) => new(person, "mci", "Litigation 2026-7", "CASE-7", "priya@example.com",
        DateOnly.FromDateTime(DateTime.UtcNow).AddDays(60), "Your records in this program are kept for a legal case.");

    public static TheoryData<string, Engine> Writers => new(
        from method in Methods where method.Value.Run is not null
        from engine in new[] { Engine.Sqlite, Engine.Postgres }
        select (method.Key, engine));

    [Fact]
    public void EveryMethodTakingAnActor_IsListed()
    {
        var found = typeof(Actor).Assembly.GetExportedTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(method => typeof(Task).IsAssignableFrom(method.ReturnType))
            .Where(method => method.GetParameters().Any(parameter => parameter.ParameterType == typeof(Actor)))
            .Select(method => $"{method.DeclaringType!.Name}.{method.Name}")
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(found.SetEquals(Methods.Keys),
            $"Not listed here (say what each logs): {string.Join(", ", found.Except(Methods.Keys).Order())}. " +
            $"Listed but gone: {string.Join(", ", Methods.Keys.Except(found).Order())}.");
        Assert.All(Methods.Values, entry => Assert.True(entry.Action is not null || entry.Exempt is { Length: > 20 }));
    }

    [Theory, MemberData(nameof(Writers))]
    public async Task EachMethod_LeavesItsEvent(string method, Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var grant = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var alice = new Actor("alice@example.com", [Roles.Employee], world.Alice);
        var objection = await db.Get<RequestDesk>().SubmitAsync(world.Alice, RequestKind.Objection, "mci", null, alice, Cancellation);
        var export = await db.Get<RequestDesk>().SubmitAsync(world.Alice, RequestKind.Export, null, null, alice, Cancellation);
        await using var connection = await db.OpenAsync();
        var before = (await connection.AuditEventsAsync()).Count;

        await Methods[method].Run!(new Scene(db, world, grant, objection, export));

        var written = (await connection.AuditEventsAsync(before + 1)).Select(e => e.Action).ToList();
        Assert.Contains(Methods[method].Action!, written);
    }
}
