using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Requests;

public sealed class RequestDeskTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    private static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private static Actor Employee(long subjectId) => new("alice@example.com", [Roles.Employee], subjectId);

    [Theory, MemberData(nameof(Engines))]
    public async Task Submit_IsDueOneMonthAfterReceipt_AndAudited(Engine engine)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 31, 10, 0, 0, TimeSpan.Zero));
        await using var db = await TestDatabase.CreateAsync(engine, time);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");

        var request = await db.Get<RequestDesk>().SubmitAsync(alice, RequestKind.Erasure, null, null, Employee(alice), Cancellation);

        Assert.Matches("^ERA-[A-Z2-9]{4}-[A-Z2-9]{4}$", request.Reference);
        Assert.Equal(RequestStatus.Received, request.Status);
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 10, 0, 0, TimeSpan.Zero), request.DueAt);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE action = 'request.erasure.received' AND subject_id = @alice", new { alice }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Submit_Twice_IsOneRequest(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var desk = db.Get<RequestDesk>();

        var first = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee(alice), Cancellation);
        var second = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee(alice), Cancellation);

        Assert.Equal(first.Reference, second.Reference);
        Assert.Single(await desk.ForSubjectAsync(alice, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AnotherPersonsReference_IsNotFound(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var desk = db.Get<RequestDesk>();
        var alices = await desk.SubmitAsync(alice, RequestKind.Erasure, null, null, Employee(alice), Cancellation);

        await Assert.ThrowsAsync<NotFoundProblem>(() => desk.GetForSubjectAsync(bob, alices.Reference, Cancellation));
        Assert.Empty(await desk.ForSubjectAsync(bob, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Extend_ByUpToTwoMonthsWithAReason_IsShownAndAudited(Engine engine)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var db = await TestDatabase.CreateAsync(engine, time);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var desk = db.Get<RequestDesk>();
        var request = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee(alice), Cancellation);

        var tooLate = await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(3).AddDays(1), "volume", Priya, Cancellation));
        Assert.Equal("dueAt", tooLate.Field);
        await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(2), " ", Priya, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(2), "volume", Employee(alice), Cancellation));
        await desk.ExtendAsync(request.Reference, request.ReceivedAt.AddMonths(3), "Seven years of transcripts to assemble.", Priya, Cancellation);

        var mine = await desk.GetForSubjectAsync(alice, request.Reference, Cancellation);
        Assert.Equal(request.ReceivedAt.AddMonths(3), mine.EffectiveDueAt);
        Assert.Equal("Seven years of transcripts to assemble.", mine.ExtensionReason);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = 'request.extended'"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_PutsOpenRequestsFirst_MostUrgentFirst(Engine engine)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var db = await TestDatabase.CreateAsync(engine, time);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var desk = db.Get<RequestDesk>();
        var older = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee(alice), Cancellation);
        time.Advance(TimeSpan.FromDays(3));
        var newer = await desk.SubmitAsync(bob, RequestKind.Erasure, null, null, Employee(bob), Cancellation);
        await desk.ExtendAsync(older.Reference, older.ReceivedAt.AddMonths(2), "volume", Priya, Cancellation);

        var queue = await desk.QueueAsync(new RequestQueueFilter(), 0, 50, Priya, Cancellation);

        Assert.Equal([newer.Reference, older.Reference], queue.Requests.Select(r => r.Reference));
        Assert.Equal(2, queue.Total);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Withdraw_FromAConsentProgram_RevokesAndFilesOneErasure_EvenWhenRepeated(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();

        var first = await withdrawals.WithdrawAsync(alice, "mci", null, Employee(alice), Cancellation);
        var again = await withdrawals.WithdrawAsync(alice, "mci", null, Employee(alice), Cancellation);

        Assert.Equal(RevocationKind.Withdrawal, first.Revocation.Kind);
        Assert.Equal(RequestKind.Erasure, first.FollowUp.Kind);
        Assert.Equal("mci", first.FollowUp.ProgramKey);
        Assert.Equal(first.FollowUp.Reference, again.FollowUp.Reference);
        Assert.Equal(first.Revocation.Id, again.Revocation.Id);
        Assert.Empty(first.LegalHolds);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM revocations WHERE subject_id = @alice", new { alice }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM requests WHERE subject_id = @alice", new { alice }));
        Assert.Equal(program.Id, await connection.ExecuteScalarAsync<long>("SELECT program_id FROM requests WHERE subject_id = @alice", new { alice }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Withdraw_UnderALegalHold_ReportsTheHoldsNotice_NotItsInternalReason(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("""
                INSERT INTO legal_holds (subject_id, program_id, reason, notice, placed_by, placed_at)
                VALUES (@alice, @program, 'Litigation 2026-114 against Alice', 'Kept for a legal case.', 'priya@example.com', @Now)
                """, new { alice, program = program.Id, Now = SampleData.Epoch });

        var outcome = await db.Get<Withdrawals>().WithdrawAsync(alice, "mci", "keystrokes", Employee(alice), Cancellation);

        Assert.Equal(["Kept for a legal case."], outcome.LegalHolds);
        Assert.Equal("keystrokes", outcome.FollowUp.CategoryKey);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Objection_IsDecidedOnce_WithAReasonTheEmployeeSees(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await SampleData.ProgramAsync(db, "endpoint-security", "process_events");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE programs SET legal_basis = 'legitimate_interest' WHERE key = 'endpoint-security'");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var outcome = await db.Get<Withdrawals>().WithdrawAsync(alice, "endpoint-security", null, Employee(alice), Cancellation);
        var desk = db.Get<RequestDesk>();

        Assert.Equal(RevocationKind.Objection, outcome.Revocation.Kind);
        Assert.Equal(RequestKind.Objection, outcome.FollowUp.Kind);
        await desk.DecideObjectionAsync(outcome.FollowUp.Reference, uphold: true, "Laptops of this team are out of scope.", Omar, Cancellation);
        await Assert.ThrowsAsync<RuleViolation>(() => desk.DecideObjectionAsync(outcome.FollowUp.Reference, uphold: false, "changed my mind", Priya, Cancellation));

        var mine = await desk.GetForSubjectAsync(alice, outcome.FollowUp.Reference, Cancellation);
        Assert.Equal(RequestStatus.Upheld, mine.Status);
        Assert.Equal("Laptops of this team are out of scope.", mine.DecisionReason);
        Assert.Equal("omar@example.com", mine.DecidedBy);
    }
}
