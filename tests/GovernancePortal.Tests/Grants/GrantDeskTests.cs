using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Grants;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Grants;

/// <summary>Asking for a grant, reviewing it (never one's own; two officers for special categories) and ending it, each step audited.</summary>
public sealed class GrantDeskTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task Ask_ThenApprove_IsActive_WithItsHistory_AndEveryStepAudited(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var desk = db.Get<GrantDesk>();

        var id = await desk.AskAsync(GrantWorld.Ask("keystrokes"), world.Dana, Cancellation);
        var pending = await db.Get<GrantQueries>().DetailAsync(id, world.Dana, Cancellation);
        var outcome = await desk.ReviewAsync(id, approve: true, "Keystrokes only, as asked", world.Priya, Cancellation);
        await desk.EndAsync(id, "The evaluation is over", world.Omar, Cancellation);

        Assert.Equal(GrantStatus.Pending, pending.Grant.StatusAt(DateTimeOffset.UtcNow));
        Assert.Equal(new GrantReviewOutcome(GrantStatus.Active, 1, 1, true), outcome);
        var detail = await db.Get<GrantQueries>().DetailAsync(id, world.Dana, Cancellation);
        Assert.Equal(GrantStatus.Revoked, detail.Grant.StatusAt(DateTimeOffset.UtcNow));
        Assert.Equal(["dana@example.com", "priya@example.com", "omar@example.com"], detail.History.Select(s => s.Who));
        Assert.Equal("Keystrokes only, as asked", detail.History[1].Note);
        Assert.Equal("The evaluation is over", detail.History[2].Note);
        await using var connection = await db.OpenAsync();
        var events = await connection.AuditEventsAsync();
        Assert.Equal([AuditActions.GrantRequested, AuditActions.GrantApproved, AuditActions.GrantEnded], events.Select(e => e.Action));
        Assert.All(events, e =>
        {
            var detail = RecordAccessDetail.Read(e.Detail);
            Assert.Equal(id, detail.GrantId);
            Assert.Equal(["keystrokes"], detail.Categories);
        });
        Assert.All(events, e => Assert.Equal(GrantWorld.Purpose, e.Purpose));
        Assert.Equal(["dana@example.com", "priya@example.com", "omar@example.com"], events.Select(e => e.Actor));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ask_WhenNoOtherPrivacyOfficerExists_IsRefusedAtOnce(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("DELETE FROM subject_roles WHERE role = @Role AND subject_id <> @Priya", new { Role = Roles.PrivacyOfficer, Priya = world.Priya.SubjectId });
        var officerWhoConsumes = world.Priya with { Roles = [Roles.PrivacyOfficer, Roles.DataConsumer, Roles.Employee] };

        var alone = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), officerWhoConsumes, Cancellation));
        var special = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("transcriptions"), world.Dana, Cancellation));

        Assert.Contains("no privacy officer other than you", alone.Message);
        Assert.Contains("two privacy officers", special.Message);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM grants"));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("test")]
    [InlineData("testing testing testing testing")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("x y z 1 2 3 4 5 6 7 8 9 0 a b c d e f g h")]
    [InlineData("                         ")]
    public void Purpose_WithoutSubstance_IsRefused(string purpose) =>
        Assert.Equal("purpose", Assert.Throws<RuleViolation>(() => GrantDesk.RequirePurpose(purpose)).Field);

    [Theory, MemberData(nameof(Engines))]
    public async Task Ask_EndInThePast_Or10YearsOut_OrBeyondMaxDays_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var desk = db.Get<GrantDesk>();
        var now = DateTimeOffset.UtcNow;

        foreach (var end in new[] { now.AddDays(-1), now, now.AddYears(10), now.AddDays(91) })
            Assert.Equal("endsAt", (await Assert.ThrowsAsync<RuleViolation>(() => desk.AskAsync(GrantWorld.Ask("keystrokes") with { EndsAt = end }, world.Dana, Cancellation))).Field);
        await desk.AskAsync(GrantWorld.Ask("keystrokes") with { EndsAt = now.AddDays(89) }, world.Dana, Cancellation);
        await using var shorter = new ServiceCollection().AddLogging().AddPortalCore(db.Settings with { Grants = new GrantOptions(7, false) }).BuildServiceProvider();
        await Assert.ThrowsAsync<RuleViolation>(() => shorter.GetRequiredService<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes") with { EndsAt = now.AddDays(8) }, world.Dana, Cancellation));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM grants"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ask_CategoryOfAnotherProgram_OrUnknownProgram_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var desk = db.Get<GrantDesk>();

        await Assert.ThrowsAsync<RuleViolation>(() => desk.AskAsync(GrantWorld.Ask("keystrokes", "process_events"), world.Dana, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => desk.AskAsync(GrantWorld.Ask("keystrokes") with { ProgramKey = "nope" }, world.Dana, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => desk.AskAsync(GrantWorld.Ask("keystrokes"), world.Priya, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Review_OfficersOwnGrant_IsRefused_EvenUnderAChangedEmail(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var both = world.Priya with { Roles = [Roles.PrivacyOfficer, Roles.DataConsumer, Roles.Employee] };
        var desk = db.Get<GrantDesk>();
        var id = await desk.AskAsync(GrantWorld.Ask("keystrokes"), both, Cancellation);

        await Assert.ThrowsAsync<OwnRequestRefused>(() => desk.ReviewAsync(id, approve: true, "Fine by me", both with { Name = "priya.r@example.com" }, Cancellation));

        Assert.Equal(GrantStatus.Pending, (await db.Get<GrantQueries>().DetailAsync(id, both, Cancellation)).Grant.StatusAt(DateTimeOffset.UtcNow));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM grant_reviews"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SpecialCategory_NeedsTwoDifferentOfficers_TheSameOfficersSecondApprovalCountsOnce(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var desk = db.Get<GrantDesk>();
        var id = await desk.AskAsync(GrantWorld.Ask("keystrokes", "transcriptions"), world.Dana, Cancellation);

        var first = await desk.ReviewAsync(id, approve: true, "First look: fine", world.Priya, Cancellation);
        var again = await desk.ReviewAsync(id, approve: true, "Fine, really", world.Priya, Cancellation);
        await Assert.ThrowsAsync<GrantStopped>(() => db.Get<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation));
        var second = await desk.ReviewAsync(id, approve: true, "Second officer agrees", world.Omar, Cancellation);

        Assert.Equal(new GrantReviewOutcome(GrantStatus.Pending, 1, 2, true), first);
        Assert.Equal(new GrantReviewOutcome(GrantStatus.Pending, 1, 2, false), again);
        Assert.Equal(new GrantReviewOutcome(GrantStatus.Active, 2, 2, true), second);
        Assert.Equal(2, await CountAsync(db, "SELECT count(*) FROM grant_reviews"));
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM audit_events WHERE action = '{AuditActions.GrantApprovalRecorded}'"));
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM audit_events WHERE action = '{AuditActions.GrantApproved}'"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Approval_DoubleSubmittedAtOnce_IsOneEffect(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        var world = await GrantWorld.CreateAsync(db);
        var id = await db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), world.Dana, Cancellation);

        var outcomes = await Task.WhenAll(
            Task.Run(() => db.Get<GrantDesk>().ReviewAsync(id, approve: true, "Approved", world.Priya, Cancellation)),
            Task.Run(() => secondNode.GetRequiredService<GrantDesk>().ReviewAsync(id, approve: true, "Approved", world.Priya, Cancellation)));

        Assert.Equal([false, true], outcomes.Select(o => o.Recorded).Order());
        Assert.All(outcomes, o => Assert.Equal(GrantStatus.Active, o.Status));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM grant_reviews"));
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM audit_events WHERE action = '{AuditActions.GrantApproved}'"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Deny_WithANote_TheRequesterSeesIt_AndNoOneCanApproveAfter(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var desk = db.Get<GrantDesk>();
        var id = await desk.AskAsync(GrantWorld.Ask("keystrokes"), world.Dana, Cancellation);

        await Assert.ThrowsAsync<RuleViolation>(() => desk.ReviewAsync(id, approve: false, "  ", world.Priya, Cancellation));
        var denied = await desk.ReviewAsync(id, approve: false, "Aggregates would do; ask for those", world.Priya, Cancellation);
        await Assert.ThrowsAsync<RuleViolation>(() => desk.ReviewAsync(id, approve: true, "Overrule", world.Omar, Cancellation));

        Assert.Equal(GrantStatus.Denied, denied.Status);
        var detail = await db.Get<GrantQueries>().DetailAsync(id, world.Dana, Cancellation);
        Assert.Equal(GrantStatus.Denied, detail.Grant.StatusAt(DateTimeOffset.UtcNow));
        Assert.Equal("Aggregates would do; ask for those", detail.Reviews.Single().Note);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Detail_AnotherConsumersGrant_IsNotFound_AndOnlyOfficersListThemAll(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await db.Get<GrantDesk>().AskAsync(GrantWorld.Ask("keystrokes"), world.Dana, Cancellation);
        var queries = db.Get<GrantQueries>();

        await Assert.ThrowsAsync<NotFoundProblem>(() => queries.DetailAsync(id, world.Erin, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => queries.DetailAsync(id + 1000, world.Priya, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => queries.ForOfficersAsync(world.Dana, DateTimeOffset.UtcNow, Cancellation));
        Assert.Equal([id], (await queries.ForOfficersAsync(world.Omar, DateTimeOffset.UtcNow, Cancellation)).Select(g => g.Id));
    }

    private static Task<long> CountAsync(TestDatabase db, string sql) => Collection.CollectionSamples.CountAsync(db, sql);
}
