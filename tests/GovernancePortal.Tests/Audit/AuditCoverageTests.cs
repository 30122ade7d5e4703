using System.Reflection;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Demo;
using GovernancePortal.Grants;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Audit;

/// <summary>
/// Point 1 of the audit contract, for the library: every public method that acts for someone (it takes an
/// <see cref="Actor"/>) writes to the log. The method list is found by reflection, so a new one fails
/// <see cref="EveryMethodTakingAnActor_HasAScenarioOrAReasonItWritesNothing"/> until it has a scenario here.
/// </summary>
public sealed class AuditCoverageTests : DatabaseTests
{
    /// <summary>Methods that act for someone yet write no event, and why that is right. Nothing else may be here.</summary>
    private static readonly Dictionary<string, string> WritesNothing = new(StringComparer.Ordinal)
    {
        ["GrantQueries.ForOfficersAsync(Actor, DateTimeOffset, CancellationToken)"] = "lists grant requests for review: who asks for what, nobody's monitored data",
        ["GrantQueries.DetailAsync(Int64, Actor, CancellationToken)"] = "one grant request and its reviews, nobody's monitored data",
        ["GrantReader.StopReasonAsync(String, Int64, Actor, CancellationToken)"] = "tells the holder why their own grant no longer reads; reads no records",
        ["GrantExposure.ReportAsync(String, Actor, CancellationToken)"] = "counts of reads per day and who holds grants, from the log itself; no records",
    };

    private static string Signature(MethodInfo method) =>
        $"{method.DeclaringType!.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";

    private static IReadOnlyList<string> ActingMethods() =>
        typeof(AuditLog).Assembly.GetExportedTypes()
            .Where(type => type.IsClass && !type.IsAbstract)
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(method => typeof(Task).IsAssignableFrom(method.ReturnType) && method.GetParameters().Any(p => p.ParameterType == typeof(Actor)))
            .Select(Signature).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void EveryMethodTakingAnActor_HasAScenarioOrAReasonItWritesNothing()
    {
        var covered = Scenarios.Select(s => s.Method).Concat(WritesNothing.Keys).ToHashSet(StringComparer.Ordinal);

        var missing = ActingMethods().Where(method => !covered.Contains(method)).ToList();
        var gone = covered.Where(method => !ActingMethods().Contains(method)).ToList();

        Assert.True(missing.Count == 0, "No scenario (and no reason to write nothing) for: " + string.Join("; ", missing));
        Assert.True(gone.Count == 0, "Scenarios for methods that no longer exist: " + string.Join("; ", gone));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task EveryActingMethod_WritesAnEventByItsActor(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);
        var world = await World.CreateAsync(db);
        var silent = new List<string>();

        foreach (var (method, act) in Scenarios)
        {
            var before = await HeadAsync(db);
            var actor = await act(world);
            await using var connection = await db.OpenAsync();
            var written = await connection.AuditEventsAsync(before + 1);
            if (!written.Any(e => e.Actor == actor.Name))
                silent.Add(method);
        }
        foreach (var (method, _) in WritesNothing)
            Assert.DoesNotContain(method, Scenarios.Select(s => s.Method));

        Assert.True(silent.Count == 0, "Wrote nothing to the log by their actor: " + string.Join("; ", silent));
    }

    private static async Task<long> HeadAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT coalesce(max(seq), 0) FROM audit_events");
    }

    /// <summary>The demo people as actors, and what the scenarios hand on to each other.</summary>
    private sealed class World(TestDatabase db, IReadOnlyDictionary<string, long> subjects)
    {
        public TestDatabase Db { get; } = db;

        public T Get<T>() where T : notnull => Db.Get<T>();

        public long Id(string email) => subjects[email];

        public Actor As(string email) => new(email, DemoData.FindUser(email)!.Roles, subjects[email]);

        public Actor Priya => As("priya@example.com");

        public Actor Omar => As("omar@example.com");

        public Actor Alice => As("alice@example.com");

        public Actor Bob => As("bob@example.com");

        public Actor Dana => As("dana@example.com");

        public long PauseId { get; set; }

        public long CollectorId { get; set; }

        public long GrantId { get; set; }

        public DataRequest? Export { get; set; }

        public DataRequest? Objection { get; set; }

        public static async Task<World> CreateAsync(TestDatabase db)
        {
            var ids = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var user in DemoData.Users)
                ids[user.Email] = (await db.Services.SubjectByExternalIdAsync(user.ExternalId))!.Id;
            return new World(db, ids);
        }
    }

    private static readonly ProgramDraft Coverage = new("coverage", "Coverage check", "Checks that every action is logged, in a test database.", "Audit team", "consent");

    private static readonly CategoryDraft Clicks = new("clicks", "Clicks", "Clicks per minute.", "low", 30);

    private static readonly (string Method, Func<World, Task<Actor>> Act)[] Scenarios =
    [
        ("ProgramEditor.RegisterAsync(ProgramDraft, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().RegisterAsync(Coverage, w.Priya, Cancellation); return w.Priya; }),
        ("ProgramEditor.UpdateAsync(String, ProgramDraft, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().UpdateAsync("coverage", Coverage with { Name = "Coverage" }, w.Priya, Cancellation); return w.Priya; }),
        ("ProgramEditor.AddCategoryAsync(String, CategoryDraft, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().AddCategoryAsync("coverage", Clicks, w.Priya, Cancellation); return w.Priya; }),
        ("ProgramEditor.UpdateCategoryAsync(String, String, CategoryDraft, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().UpdateCategoryAsync("coverage", "clicks", Clicks with { RetentionDays = 20 }, w.Priya, Cancellation); return w.Priya; }),
        ("ProgramEditor.RetireCategoryAsync(String, String, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().RetireCategoryAsync("coverage", "clicks", w.Priya, Cancellation); return w.Priya; }),
        ("ProgramEditor.RetireAsync(String, Actor, CancellationToken)", async w => { await w.Get<ProgramEditor>().RetireAsync("coverage", w.Priya, Cancellation); return w.Priya; }),
        ("PauseSwitch.PauseAsync(String, IReadOnlyCollection`1, String, Actor, CancellationToken)", async w => { w.PauseId = (await w.Get<PauseSwitch>().PauseAsync("endpoint-security", [], "coverage check", w.Priya, Cancellation)).Id; return w.Priya; }),
        ("PauseSwitch.ResumeAsync(String, Int64, String, Actor, CancellationToken)", async w => { await w.Get<PauseSwitch>().ResumeAsync("endpoint-security", w.PauseId, "nothing found", w.Omar, Cancellation); return w.Omar; }),
        ("CollectorRegistry.CreateAsync(String, String, Actor, CancellationToken)", async w => { w.CollectorId = (await w.Get<CollectorRegistry>().CreateAsync("mci", "coverage agent", w.Priya, Cancellation)).Collector.Id; return w.Priya; }),
        ("CollectorRegistry.RevokeAsync(String, Int64, Actor, CancellationToken)", async w => { await w.Get<CollectorRegistry>().RevokeAsync("mci", w.CollectorId, w.Priya, Cancellation); return w.Priya; }),
        ("RequestDesk.SubmitAsync(Int64, String, String, String, Actor, CancellationToken)", async w => { w.Export = await w.Get<RequestDesk>().SubmitAsync(w.Id("alice@example.com"), RequestKind.Export, null, null, w.Alice, Cancellation); return w.Alice; }),
        ("RequestDesk.SubmitAsync(WriteScope, Int64, String, String, String, Actor)", async w =>
        {
            await using var scope = await w.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await w.Get<RequestDesk>().SubmitAsync(scope, w.Id("bob@example.com"), RequestKind.Export, null, null, w.Bob);
            await scope.CommitAsync();
            return w.Bob;
        }),
        ("RequestDesk.QueueAsync(RequestQueueFilter, Int32, Int32, Actor, CancellationToken)", async w => { await w.Get<RequestDesk>().QueueAsync(new RequestQueueFilter(), 0, 50, w.Priya, Cancellation); return w.Priya; }),
        ("RequestDesk.OpenAsync(String, Actor, CancellationToken)", async w => { await w.Get<RequestDesk>().OpenAsync(w.Export!.Reference, w.Priya, Cancellation); return w.Priya; }),
        ("RequestDesk.ExtendAsync(String, DateTimeOffset, String, Actor, CancellationToken)", async w => { await w.Get<RequestDesk>().ExtendAsync(w.Export!.Reference, w.Export.DueAt.AddDays(20), "the archive is large", w.Priya, Cancellation); return w.Priya; }),
        ("Withdrawals.WithdrawAsync(Int64, String, String, Actor, CancellationToken)", async w => { w.Objection = (await w.Get<Withdrawals>().WithdrawAsync(w.Id("alice@example.com"), "endpoint-security", null, w.Alice, Cancellation)).FollowUp; return w.Alice; }),
        ("RequestDesk.DecideObjectionAsync(String, Boolean, String, Actor, CancellationToken)", async w => { await w.Get<RequestDesk>().DecideObjectionAsync(w.Objection!.Reference, false, "security monitoring outweighs it", w.Priya, Cancellation); return w.Priya; }),
        ("Revocations.RevokeAsync(Int64, String, String, Actor, CancellationToken)", async w => { await w.Get<Revocations>().RevokeAsync(w.Id("bob@example.com"), "mci", "transcriptions", w.Bob, Cancellation); return w.Bob; }),
        ("Revocations.RejoinAsync(Int64, String, String, Actor, CancellationToken)", async w => { await w.Get<Revocations>().RejoinAsync(w.Id("bob@example.com"), "mci", "transcriptions", w.Bob, Cancellation); return w.Bob; }),
        ("Revocations.RevokeAsync(WriteScope, Int64, String, String, Actor)", async w =>
        {
            await using var scope = await w.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await w.Get<Revocations>().RevokeAsync(scope, w.Id("bob@example.com"), "mci", "performance_data", w.Bob);
            await scope.CommitAsync();
            return w.Bob;
        }),
        ("SubjectExport.WriteAsync(Int64, DataRequest, Stream, Actor, CancellationToken)", async w =>
        {
            using var output = new MemoryStream();
            await w.Get<SubjectExport>().WriteAsync(w.Id("alice@example.com"), w.Export!, output, w.Alice, Cancellation);
            return w.Alice;
        }),
        ("RequestDesk.ExportDeliveredAsync(DataRequest, ExportReceipt, Actor, CancellationToken)", async w =>
        {
            var again = await w.Get<RequestDesk>().SubmitAsync(w.Id("alice@example.com"), RequestKind.Export, null, null, w.Alice, Cancellation);
            await w.Get<RequestDesk>().ExportDeliveredAsync(again, new ExportReceipt(0, 0, 0, 1, 0, 22, new string('0', 64)), w.Alice, Cancellation);
            return w.Alice;
        }),
        ("GrantDesk.AskAsync(GrantAsk, Actor, CancellationToken)", async w =>
        {
            w.GrantId = await w.Get<GrantDesk>().AskAsync(new GrantAsk("mci", ["mouse_movements"], "usability research on pointer precision",
                "Pointer paths are needed to measure precision; no keystrokes.", DateTimeOffset.UtcNow.AddDays(10)), w.Dana, Cancellation);
            return w.Dana;
        }),
        ("GrantDesk.ReviewAsync(Int64, Boolean, String, Actor, CancellationToken)", async w => { await w.Get<GrantDesk>().ReviewAsync(w.GrantId, true, "narrow enough", w.Priya, Cancellation); return w.Priya; }),
        ("GrantReader.ReadAsync(String, Int64, GrantReadFilter, Int32, Int32, Actor, CancellationToken)", async w => { await w.Get<GrantReader>().ReadAsync("mci", w.GrantId, new GrantReadFilter(), 0, 25, w.Dana, Cancellation); return w.Dana; }),
        ("GrantDesk.EndAsync(Int64, String, Actor, CancellationToken)", async w => { await w.Get<GrantDesk>().EndAsync(w.GrantId, "the study is over", w.Priya, Cancellation); return w.Priya; }),
        ("AuditSearch.SearchAsync(AuditQuery, Int32, Int32, Actor, CancellationToken)", async w => { var audrey = w.As("audrey@example.com"); await w.Get<AuditSearch>().SearchAsync(AuditQuery.None, 0, 100, audrey, Cancellation); return audrey; }),
        ("SigningKeys.RotateAsync(Actor, CancellationToken)", async w => { var admin = w.As("admin@example.com"); await w.Get<SigningKeys>().RotateAsync(admin, Cancellation); return admin; }),
    ];
}
