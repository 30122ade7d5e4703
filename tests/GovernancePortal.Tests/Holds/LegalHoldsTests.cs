using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Holds;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Erasure;
using static GovernancePortal.Tests.Erasure.ErasureSweepTests;

namespace GovernancePortal.Tests.Holds;

/// <summary>Placing, releasing and reviewing legal holds: who may, what a hold must say, and what the log keeps.</summary>
public sealed class LegalHoldsTests : DatabaseTests
{
    private static DateOnly Today(Setup s) => DateOnly.FromDateTime(s.Clock.GetUtcNow().UtcDateTime);

    private static HoldPlacement Valid(Setup s, string? email = "alice@example.com", string? program = "mci", int reviewInDays = 60) =>
        new(email, program, "Litigation with a former contractor", "CASE-2026-7", "priya@example.com", Today(s).AddDays(reviewInDays), "Kept for a legal case.");

    [Theory, MemberData(nameof(Engines))]
    public async Task Place_APersonInAProgram_IsAudited_WithoutTheReasonOrTheCase(Engine engine)
    {
        await using var s = await SetupAsync(engine);

        var hold = await s.Db.Get<LegalHolds>().PlaceAsync(Valid(s), s.Officer, Cancellation);

        Assert.Equal(("alice@example.com", "mci", "CASE-2026-7", "Kept for a legal case."), (hold.SubjectEmail, hold.ProgramKey, hold.CaseReference, hold.Notice));
        Assert.Equal("alice@example.com in mci", hold.Scope);
        Assert.True(hold.Active);
        await using var connection = await s.Db.OpenAsync();
        var audit = Assert.Single(await connection.QueryAsync<(string Actor, long? Subject, string Program, string Detail)>(
            "SELECT actor, subject_id, program, detail FROM audit_events WHERE action = @a", new { a = AuditActions.HoldPlaced }));
        Assert.Equal(("priya@example.com", (long?)s.Alice, "mci"), (audit.Actor, audit.Subject, audit.Program));
        Assert.DoesNotContain("Litigation", audit.Detail);
        Assert.DoesNotContain("CASE-2026-7", audit.Detail);
        Assert.Contains($"hold {hold.Id}", audit.Detail);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Place_WithSomethingMissingOrWrong_IsRefused_AndNothingIsWritten(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var holds = s.Db.Get<LegalHolds>();
        var valid = Valid(s);
        var cases = new (HoldPlacement Placement, string Field)[]
        {
            (valid with { Reason = " " }, "reason"),
            (valid with { CaseReference = "" }, "caseReference"),
            (valid with { ResponsibleOfficer = "" }, "responsibleOfficer"),
            (valid with { Notice = "" }, "notice"),
            (valid with { ReviewOn = null }, "reviewOn"),
            (valid with { ReviewOn = Today(s) }, "reviewOn"),
            (valid with { ReviewOn = Today(s).AddYears(3) }, "reviewOn"),
            (valid with { SubjectEmail = null, ProgramKey = null }, "subjectEmail"),
            (valid with { SubjectEmail = "nobody@example.com" }, "subjectEmail"),
            (valid with { Notice = new string('n', LegalHolds.MaxTextLength + 1) }, "notice"),
        };

        foreach (var (placement, field) in cases)
            Assert.Equal(field, (await Assert.ThrowsAsync<RuleViolation>(() => holds.PlaceAsync(placement, s.Officer, Cancellation))).Field);
        await Assert.ThrowsAsync<NotFoundProblem>(() => holds.PlaceAsync(valid with { ProgramKey = "nope" }, s.Officer, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.PlaceAsync(valid, s.AliceActor, Cancellation));

        Assert.Equal(0, await CountAsync(s, "SELECT count(*) FROM legal_holds"));
        Assert.Equal(0, await CountAsync(s, "SELECT count(*) FROM audit_events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Release_IsAuditedOnce_AndASecondReleaseIsRefused(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var holds = s.Db.Get<LegalHolds>();
        var hold = await holds.PlaceAsync(Valid(s, email: null), s.Officer, Cancellation);

        await Assert.ThrowsAsync<RuleViolation>(() => holds.ReleaseAsync(hold.Id, "", s.Officer, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.ReleaseAsync(hold.Id, "Done.", s.AliceActor, Cancellation));
        var released = await holds.ReleaseAsync(hold.Id, "The case settled.", s.Officer, Cancellation);
        await Assert.ThrowsAsync<RuleViolation>(() => holds.ReleaseAsync(hold.Id, "Again.", s.Officer, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => holds.ReleaseAsync(hold.Id + 100, "Which?", s.Officer, Cancellation));

        Assert.False(released.Active);
        Assert.Equal(("priya@example.com", "The case settled."), (released.ReleasedBy, released.ReleaseNote));
        Assert.Equal(1, await CountAsync(s, "SELECT count(*) FROM audit_events WHERE action = @a", new { a = AuditActions.HoldReleased }));
        Assert.Empty(await holds.ListAsync(s.Officer, activeOnly: true, Cancellation));
        Assert.Single(await holds.ListAsync(s.Officer, activeOnly: false, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DueForReview_RemindsThirtySevenAndOneDaysBefore_AndOncePast(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var holds = s.Db.Get<LegalHolds>();
        foreach (var days in new[] { 60, 30, 8, 7, 2, 1 })
            await holds.PlaceAsync(Valid(s, reviewInDays: days) with { CaseReference = $"CASE-{days}" }, s.Officer, Cancellation);
        var released = await holds.PlaceAsync(Valid(s, reviewInDays: 3) with { CaseReference = "CASE-released" }, s.Officer, Cancellation);
        await holds.ReleaseAsync(released.Id, "Closed.", s.Officer, Cancellation);

        var due = await holds.DueForReviewAsync(s.Officer, Cancellation);
        s.Clock.Advance(TimeSpan.FromDays(3));
        var later = await holds.DueForReviewAsync(s.Officer, Cancellation);

        Assert.Equal([("CASE-1", 1, 1), ("CASE-2", 2, 7), ("CASE-7", 7, 7), ("CASE-8", 8, 30), ("CASE-30", 30, 30)],
            due.Select(r => (r.Hold.CaseReference, r.DaysLeft, r.Reminder)));
        Assert.Equal(("CASE-1", -2, 0), (later[0].Hold.CaseReference, later[0].DaysLeft, later[0].Reminder));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.DueForReviewAsync(s.AliceActor, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task List_IsAudited_AndRefusedToEmployees(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var holds = s.Db.Get<LegalHolds>();
        await holds.PlaceAsync(Valid(s), s.Officer, Cancellation);

        var listed = await holds.ListAsync(s.Officer, activeOnly: true, Cancellation);

        Assert.Single(listed);
        Assert.Equal(1, await CountAsync(s, "SELECT count(*) FROM audit_events WHERE action = @a AND record_count = 1", new { a = AuditActions.HoldsViewed }));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.ListAsync(s.AliceActor, activeOnly: true, Cancellation));
    }
}
