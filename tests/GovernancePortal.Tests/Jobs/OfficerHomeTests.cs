using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Home;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Jobs;

/// <summary>The officers' home counts what the sweeps found: flagged requests, pause alerts and reviews, records past retention, failed jobs.</summary>
public sealed class OfficerHomeTests : DatabaseTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    [Theory, MemberData(nameof(Engines))]
    public async Task Summary_OfAnEmptyPortal_HasNothingToDo(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);

        var summary = await db.Get<OfficerHome>().SummaryAsync(Priya, Cancellation);

        Assert.True(summary.NothingToDo);
        Assert.Equal(0, summary.HoldsToReview);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Summary_CountsWhatTheSweepsFound(Engine engine)
    {
        var clock = new FakeTimeProvider(SampleData.Epoch);
        await using var db = await TestDatabase.CreateAsync(engine, clock);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "mouse");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var desk = db.Get<RequestDesk>();
        var overdue = await desk.SubmitAsync(alice, RequestKind.Erasure, "mci", null, new Actor("alice@example.com", [Roles.Employee], alice), Cancellation);
        clock.Advance(TimeSpan.FromDays(5));
        await desk.SubmitAsync(bob, RequestKind.Erasure, "mci", null, new Actor("bob@example.com", [Roles.Employee], bob), Cancellation);
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 4).Select(i => new NewRecord(program.Id, program["mouse"], alice, SampleData.Epoch, "{}")).ToArray());
        await db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes"], "Complaint about keystroke capture", Priya, Cancellation);
        clock.Advance(TimeSpan.FromMinutes(1));
        await SampleData.AddRecordsAsync(db, new NewRecord(program.Id, program["keystrokes"], alice, clock.GetUtcNow(), "{}"));
        await db.Get<GovernancePortal.Holds.LegalHolds>().PlaceAsync(new GovernancePortal.Holds.HoldPlacement("bob@example.com", "mci", "Litigation", "CASE-1",
            "priya@example.com", DateOnly.FromDateTime(overdue.DueAt.UtcDateTime).AddDays(10), "Your records are kept for a legal case."), Priya, Cancellation);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            db.Get<JobRuns>().RecordAsync<int>("grant-expiry", _ => throw new InvalidOperationException(), _ => "", Cancellation));

        // A month and a day on: alice's request (due a month after receipt) is overdue, bob's (filed 5 days later)
        // due within 7 days; the pause has been open 27 days; alice's mouse records are 32 days old, past their 30.
        clock.SetUtcNow(overdue.DueAt + TimeSpan.FromDays(1));
        await db.Get<RequestDeadlines>().RunAsync(Cancellation);
        await db.Get<PauseCheck>().RunAsync(Cancellation);
        var summary = await db.Get<OfficerHome>().SummaryAsync(Priya, Cancellation);

        Assert.Equal(new DeadlineCounts(DueSoon: 1, Overdue: 1), summary.Requests);
        Assert.Equal(1, summary.PauseAlerts);
        Assert.Equal(1, summary.PauseReviews);
        Assert.Equal(4, summary.RetentionOverdueRecords);
        Assert.Equal(1, summary.RetentionOverdueCategories);
        Assert.Equal(["grant-expiry"], summary.FailedJobs.Select(j => j.Job));
        Assert.Equal(1, summary.HoldsToReview);
        Assert.False(summary.NothingToDo);
    }
}
