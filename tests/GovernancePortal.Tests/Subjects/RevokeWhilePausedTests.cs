using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Collection;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Subjects;

/// <summary>
/// An employee withdraws while a privacy officer has the program paused: the withdrawal does not wait for
/// the resume, and the resume does not undo it.
/// </summary>
public sealed class RevokeWhilePausedTests : DatabaseTests
{
    private const string Carol = "carol@example.com";
    private const string Dan = "dan@example.com";

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>The consent program mci, carol and dan known to it through a first batch, then paused whole by Priya.</summary>
    private async Task<(TestDatabase Db, CollectingProgram Program, long Carol, Pause Pause)> PausedAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes", "transcriptions");
        _clock.Advance(TimeSpan.FromDays(1));
        var first = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record(Carol, "keystrokes", Now), Record(Dan, "keystrokes", Now)), null, Cancellation);
        Assert.Equal(2, first.Accepted);
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Transcripts were readable by all staff", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(5));
        return (db, program, await SubjectIdAsync(db, Carol), pause);
    }

    private static Actor CarolSignedIn(long subjectId) => new(Carol, [Roles.Employee], subjectId);

    [Theory, MemberData(nameof(Engines))]
    public async Task Withdraw_WhileTheProgramIsPaused_RecordsTheRevocationAndTheErasureRequest_Audited(Engine engine)
    {
        var (db, _, carol, _) = await PausedAsync(engine);
        await using var _ = db;

        var outcome = await db.Get<Withdrawals>().WithdrawAsync(carol, "mci", null, CarolSignedIn(carol), Cancellation);

        Assert.Equal(RevocationKind.Withdrawal, outcome.Revocation.Kind);
        Assert.Null(outcome.Revocation.CategoryId);
        Assert.Equal(Now, outcome.Revocation.CreatedAt);
        var active = Assert.Single(await SampleData.ActiveRevocationsAsync(db, carol));
        Assert.Equal(outcome.Revocation.Id, active.Id);
        var erasure = await db.Get<RequestDesk>().GetForSubjectAsync(carol, outcome.FollowUp.Reference, Cancellation);
        Assert.Equal((RequestKind.Erasure, "mci", RequestStatus.Received), (erasure.Kind, erasure.ProgramKey, erasure.Status));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM audit_events WHERE action = 'subject.revoked' AND subject_id = @carol AND actor = @Email AND program = 'mci'", new { carol, Email = Carol }));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM audit_events WHERE action = 'request.erasure.received' AND subject_id = @carol", new { carol }));
        var holdings = Assert.Single(await db.Get<MyDataSummary>().ForSubjectAsync(carol, Cancellation));
        Assert.True(holdings.RevokedByMe);
        Assert.Equal(ProgramState.Paused, holdings.Program.State);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Resume_ByASecondOfficer_AfterAWithdrawalDuringThePause_StillRefusesTheWithdrawnSubjectOnly(Engine engine)
    {
        var (db, program, carol, pause) = await PausedAsync(engine);
        await using var _ = db;
        await db.Get<Withdrawals>().WithdrawAsync(carol, "mci", null, CarolSignedIn(carol), Cancellation);
        var pauses = db.Get<PauseSwitch>();

        await Assert.ThrowsAsync<RuleViolation>(() => pauses.ResumeAsync("mci", pause.Id, "Access narrowed", Priya, Cancellation));
        await pauses.ResumeAsync("mci", pause.Id, "Access narrowed to the team", Omar, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record(Carol, "keystrokes", Now),
            Record(Carol, "transcriptions", Now),
            Record(Dan, "keystrokes", Now),
            Record("alice@example.com", "transcriptions", Now)), null, Cancellation);

        Assert.Equal([new(0, RejectReason.SubjectRevoked), new(1, RejectReason.SubjectRevoked)], result.Rejected);
        Assert.Equal(2, result.Accepted);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records WHERE subject_id = @carol", new { carol }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Withdraw_FromAPausedCategory_OutlastsThatCategorysResume(Engine engine)
    {
        var (db, program, carol, wholePause) = await PausedAsync(engine);
        await using var _ = db;
        var pauses = db.Get<PauseSwitch>();
        var categoryPause = await pauses.PauseAsync("mci", ["transcriptions"], "Transcripts under review", Omar, Cancellation);
        await pauses.ResumeAsync("mci", wholePause.Id, "Whole-program issue fixed", Omar, Cancellation);
        await db.Get<Withdrawals>().WithdrawAsync(carol, "mci", "transcriptions", CarolSignedIn(carol), Cancellation);

        await pauses.ResumeAsync("mci", categoryPause.Id, "Review done", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record(Carol, "transcriptions", Now),
            Record(Carol, "keystrokes", Now),
            Record(Dan, "transcriptions", Now)), null, Cancellation);

        Assert.Equal([new Rejection(0, RejectReason.SubjectRevoked)], result.Rejected);
        Assert.Equal(2, result.Accepted);
    }
}
