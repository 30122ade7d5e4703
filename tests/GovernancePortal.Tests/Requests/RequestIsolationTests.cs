using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Requests;

/// <summary>
/// What an employee or anyone short of a privacy officer can do to another person's request through the
/// desk itself: guess or tamper with references, decide or extend it, or replay a decision.
/// </summary>
public sealed class RequestIsolationTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    /// <summary>Everyone who is not a privacy officer, including one who only carries an officer's name.</summary>
    private static IReadOnlyList<Actor> NonOfficers(long alice, long bob) =>
    [
        new("alice@example.com", [Roles.Employee], alice),
        new("bob@example.com", [Roles.Employee], bob),
        new("audrey@example.com", [Roles.Auditor, Roles.Employee]),
        new("dana@example.com", [Roles.DataConsumer, Roles.Employee]),
        new("admin@example.com", [Roles.Admin, Roles.Employee]),
        new("priya@example.com", [Roles.Employee]),
        Actor.System,
    ];

    private static Actor Employee(string email, long subjectId) => new(email, [Roles.Employee], subjectId);

    [Theory, MemberData(nameof(Engines))]
    public async Task GetForSubject_AlicesReferenceWithBobsId_IsNotFound_ExactlyAsAnUnknownReference(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var desk = db.Get<RequestDesk>();
        var alices = await desk.SubmitAsync(alice, RequestKind.Erasure, null, null, Employee("alice@example.com", alice), Cancellation);
        var bobs = await desk.SubmitAsync(bob, RequestKind.Export, null, null, Employee("bob@example.com", bob), Cancellation);

        var unknown = await Assert.ThrowsAsync<NotFoundProblem>(() => desk.GetForSubjectAsync(bob, "ERA-AAAA-AAAA", Cancellation));
        Assert.Equal(alices.Reference, (await desk.GetForSubjectAsync(alice, alices.Reference, Cancellation)).Reference);
        Assert.Equal(bobs.Reference, (await desk.GetForSubjectAsync(bob, bobs.Reference, Cancellation)).Reference);
        foreach (var (subject, reference) in new[]
        {
            (bob, alices.Reference),
            (alice, bobs.Reference),
            (bob, alices.Reference.ToLowerInvariant()),
            (bob, alices.Reference + " "),
            (bob, alices.Reference[..^1] + "%"),
            (bob, "' OR '1'='1"),
            (0L, alices.Reference),
            (-alice, alices.Reference),
            (alice + bob + 1000, alices.Reference),
        })
        {
            var refused = await Assert.ThrowsAsync<NotFoundProblem>(() => desk.GetForSubjectAsync(subject, reference, Cancellation));
            Assert.Equal(unknown.Message, refused.Message);
            Assert.DoesNotContain(reference.Trim(), refused.Message);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DecideObjection_ByAnyoneButAPrivacyOfficer_IsRefused_AndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var (alice, bob, objection) = await AliceObjectsAsync(db);
        var desk = db.Get<RequestDesk>();
        var eventsBefore = await AuditEventsAsync(db);

        foreach (var actor in NonOfficers(alice, bob))
        {
            var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
                desk.DecideObjectionAsync(objection.Reference, uphold: true, "I decide for myself.", actor, Cancellation));
            Assert.Equal("Only privacy officers decide on requests.", refused.Message);
        }

        Assert.Equal(objection, await desk.GetForSubjectAsync(alice, objection.Reference, Cancellation));
        Assert.Equal(eventsBefore, await AuditEventsAsync(db));
        await desk.DecideObjectionAsync(objection.Reference, uphold: true, "Out of scope.", Priya, Cancellation);
        Assert.Equal(RequestStatus.Upheld, (await desk.GetForSubjectAsync(alice, objection.Reference, Cancellation)).Status);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Extend_ByAnyoneButAPrivacyOfficer_IsRefused_AndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var desk = db.Get<RequestDesk>();
        var request = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee("alice@example.com", alice), Cancellation);
        var eventsBefore = await AuditEventsAsync(db);

        foreach (var actor in NonOfficers(alice, bob))
        {
            var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
                desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(2), "Take your time.", actor, Cancellation));
            Assert.Equal("Only privacy officers decide on requests.", refused.Message);
        }

        Assert.Equal(request, await desk.GetForSubjectAsync(alice, request.Reference, Cancellation));
        Assert.Equal(eventsBefore, await AuditEventsAsync(db));
        await desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(2), "Volume.", Priya, Cancellation);
        Assert.NotNull((await desk.GetForSubjectAsync(alice, request.Reference, Cancellation)).ExtendedDueAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task NonOfficer_GetsTheSameRefusal_ForARealAndAGuessedReference(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var (_, bob, objection) = await AliceObjectsAsync(db);
        var desk = db.Get<RequestDesk>();
        var bobActor = Employee("bob@example.com", bob);

        var real = await Assert.ThrowsAsync<RuleViolation>(() => desk.DecideObjectionAsync(objection.Reference, uphold: false, "x", bobActor, Cancellation));
        var guessed = await Assert.ThrowsAsync<RuleViolation>(() => desk.DecideObjectionAsync("OBJ-AAAA-AAAA", uphold: false, "x", bobActor, Cancellation));
        var realExtension = await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync(objection.Reference, objection.DueAt.AddDays(1), "x", bobActor, Cancellation));
        var guessedExtension = await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync("OBJ-AAAA-AAAA", objection.DueAt.AddDays(1), "x", bobActor, Cancellation));

        Assert.Equal(real.Message, guessed.Message);
        Assert.Equal(realExtension.Message, guessedExtension.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Officer_GuessedOrTamperedReference_IsNotFound_AndAuditsNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var (alice, _, objection) = await AliceObjectsAsync(db);
        var desk = db.Get<RequestDesk>();
        var eventsBefore = await AuditEventsAsync(db);

        foreach (var reference in new[]
        {
            "OBJ-AAAA-AAAA",
            objection.Reference.ToLowerInvariant(),
            objection.Reference + " ",
            objection.Reference[..^1] + "%",
            objection.Reference[..^1] + "_",
            "' OR '1'='1",
            "",
            new string('A', 10_000),
        })
        {
            await Assert.ThrowsAsync<NotFoundProblem>(() => desk.DecideObjectionAsync(reference, uphold: true, "Out of scope.", Priya, Cancellation));
            await Assert.ThrowsAsync<NotFoundProblem>(() => desk.ExtendAsync(reference, objection.DueAt.AddDays(7), "Volume.", Priya, Cancellation));
        }

        Assert.Equal(objection, await desk.GetForSubjectAsync(alice, objection.Reference, Cancellation));
        Assert.Equal(eventsBefore, await AuditEventsAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DecideObjection_Replayed_HasOneEffect(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var (alice, _, objection) = await AliceObjectsAsync(db);
        var desk = db.Get<RequestDesk>();

        await desk.DecideObjectionAsync(objection.Reference, uphold: false, "Security needs it on every laptop.", Priya, Cancellation);
        var decided = await desk.GetForSubjectAsync(alice, objection.Reference, Cancellation);
        var replay = await Assert.ThrowsAsync<RuleViolation>(() =>
            desk.DecideObjectionAsync(objection.Reference, uphold: false, "Security needs it on every laptop.", Priya, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => desk.DecideObjectionAsync(objection.Reference, uphold: true, "Upheld after all.", Priya, Cancellation));

        Assert.Equal("This objection was decided already.", replay.Message);
        Assert.Equal(RequestStatus.Rejected, decided.Status);
        Assert.Equal(decided, await desk.GetForSubjectAsync(alice, objection.Reference, Cancellation));
        Assert.Equal(1, await AuditEventsAsync(db, "objection.%"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Extend_Replayed_HasOneEffect(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var desk = db.Get<RequestDesk>();
        var request = await desk.SubmitAsync(alice, RequestKind.Erasure, null, null, Employee("alice@example.com", alice), Cancellation);
        var due = request.ReceivedAt.AddMonths(2);

        await desk.ExtendAsync(request.Reference, due, "Backups to go through.", Priya, Cancellation);
        var extended = await desk.GetForSubjectAsync(alice, request.Reference, Cancellation);
        var replay = await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync(request.Reference, due, "Backups to go through.", Priya, Cancellation));

        Assert.Equal("dueAt", replay.Field);
        Assert.Equal(due, extended.EffectiveDueAt);
        Assert.Equal(extended, await desk.GetForSubjectAsync(alice, request.Reference, Cancellation));
        Assert.Equal(1, await AuditEventsAsync(db, "request.extended"));
    }

    /// <summary>Alice objects to a legitimate-interest program; bob is there too, with nothing filed.</summary>
    private static async Task<(long Alice, long Bob, DataRequest Objection)> AliceObjectsAsync(TestDatabase db)
    {
        await SampleData.ProgramAsync(db, "endpoint-security", "process_events");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE programs SET legal_basis = 'legitimate_interest' WHERE key = 'endpoint-security'");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var outcome = await db.Get<Withdrawals>().WithdrawAsync(alice, "endpoint-security", null, Employee("alice@example.com", alice), Cancellation);
        Assert.Equal(RequestKind.Objection, outcome.FollowUp.Kind);
        return (alice, bob, outcome.FollowUp);
    }

    private static async Task<long> AuditEventsAsync(TestDatabase db, string action = "%")
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action LIKE @Action", new { Action = action });
    }
}
