using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Requests;

/// <summary>The deadline sweep flags open requests 7 days before the deadline in force, and once it has passed.</summary>
public sealed class RequestDeadlinesTests : DatabaseTests
{
    private static readonly Actor Alice = new("alice@example.com", [Roles.Employee]);

    private static async Task<(TestDatabase Db, FakeTimeProvider Clock, Actor Priya)> SetupAsync(Engine engine)
    {
        var clock = new FakeTimeProvider(SampleData.Epoch);
        var db = await TestDatabase.CreateAsync(engine, clock);
        await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var priya = await SampleData.SubjectAsync(db, "priya@example.com");
        return (db, clock, new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], priya));
    }

    private static async Task<DataRequest> FileAsync(TestDatabase db, string email)
    {
        var subject = await SampleData.SubjectAsync(db, email);
        return await db.Get<RequestDesk>().SubmitAsync(subject, RequestKind.Erasure, "mci", null, Alice with { Name = email, SubjectId = subject });
    }

    private static async Task<DataRequest> ReadAsync(TestDatabase db, DataRequest request) =>
        await db.Get<RequestDesk>().GetForSubjectAsync(request.SubjectId, request.Reference);

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_FlagsSevenDaysBefore_ThenOverdue_EachOnce(Engine engine)
    {
        var (db, clock, _) = await SetupAsync(engine);
        await using var _db = db;
        var request = await FileAsync(db, "alice@example.com");
        var deadlines = db.Get<RequestDeadlines>();

        clock.SetUtcNow(request.DueAt - TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        var early = await deadlines.RunAsync(Cancellation);
        clock.Advance(TimeSpan.FromMinutes(2));
        var soon = await deadlines.RunAsync(Cancellation);
        var soonAgain = await deadlines.RunAsync(Cancellation);
        var soonCounts = await deadlines.CountsAsync(Cancellation);
        var flagged = await ReadAsync(db, request);
        clock.SetUtcNow(request.DueAt + TimeSpan.FromMinutes(1));
        var overdue = await deadlines.RunAsync(Cancellation);
        var overdueAgain = await deadlines.RunAsync(Cancellation);

        Assert.Equal(new DeadlineCounts(0, 0), early);
        Assert.Equal(new DeadlineCounts(1, 0), soon);
        Assert.Equal(new DeadlineCounts(0, 0), soonAgain);
        Assert.Equal(new DeadlineCounts(1, 0), soonCounts);
        Assert.Equal(DeadlineFlag.DueSoon, flagged.RaisedFlag);
        Assert.Equal(new DeadlineCounts(0, 1), overdue);
        Assert.Equal(new DeadlineCounts(0, 0), overdueAgain);
        Assert.Equal(new DeadlineCounts(0, 1), await deadlines.CountsAsync(Cancellation));
        Assert.Equal(DeadlineFlag.Overdue, (await ReadAsync(db, request)).RaisedFlag);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Extension_MakesTheFlagStaleAtOnce_AndTheNewDeadlineIsFlaggedInItsTurn(Engine engine)
    {
        var (db, clock, priya) = await SetupAsync(engine);
        await using var _db = db;
        var request = await FileAsync(db, "alice@example.com");
        var deadlines = db.Get<RequestDeadlines>();
        clock.SetUtcNow(request.DueAt + TimeSpan.FromHours(1));
        await deadlines.RunAsync(Cancellation);

        var newDue = request.DueAt.AddDays(20);
        await db.Get<RequestDesk>().ExtendAsync(request.Reference, newDue, "The scope needs a second look", priya, Cancellation);
        var afterExtension = await deadlines.CountsAsync(Cancellation);
        var extended = await ReadAsync(db, request);
        var nothingYet = await deadlines.RunAsync(Cancellation);
        clock.SetUtcNow(newDue - TimeSpan.FromDays(6));
        var soon = await deadlines.RunAsync(Cancellation);

        Assert.Equal(new DeadlineCounts(0, 0), afterExtension);
        Assert.Equal(DeadlineFlag.Overdue, extended.DeadlineFlag);
        Assert.Null(extended.RaisedFlag);
        Assert.Equal(new DeadlineCounts(0, 0), nothingYet);
        Assert.Equal(new DeadlineCounts(1, 0), soon);
        Assert.Equal(DeadlineFlag.DueSoon, (await ReadAsync(db, request)).RaisedFlag);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_ClosedRequests_AreNotFlagged_AndAFlagEndsWithTheRequest(Engine engine)
    {
        var (db, clock, _) = await SetupAsync(engine);
        await using var _db = db;
        var closed = await FileAsync(db, "alice@example.com");
        var open = await FileAsync(db, "bob@example.com");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE requests SET status = @Status, completed_at = @Now WHERE id = @Id",
                new { Status = RequestStatus.Completed, Now = SampleData.Epoch, closed.Id });
        clock.SetUtcNow(open.DueAt + TimeSpan.FromDays(1));

        Assert.Equal(new DeadlineCounts(0, 1), await db.Get<RequestDeadlines>().RunAsync(Cancellation));
        Assert.Null((await ReadAsync(db, closed)).RaisedFlag);

        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE requests SET status = @Status, completed_at = @Now WHERE id = @Id",
                new { Status = RequestStatus.Completed, Now = clock.GetUtcNow(), open.Id });
        Assert.Equal(new DeadlineCounts(0, 0), await db.Get<RequestDeadlines>().CountsAsync(Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Sweep_TwoAtOnce_RaiseEachFlagOnce(Engine engine)
    {
        var (db, clock, _) = await SetupAsync(engine);
        await using var _db = db;
        var requests = new List<DataRequest>();
        for (var i = 0; i < 20; i++)
            requests.Add(await FileAsync(db, $"person{i}@example.com"));
        clock.SetUtcNow(requests[0].DueAt + TimeSpan.FromDays(1));

        var runs = await Task.WhenAll(db.Get<RequestDeadlines>().RunAsync(Cancellation), db.Get<RequestDeadlines>().RunAsync(Cancellation));

        Assert.Equal(20, runs.Sum(r => r.Overdue));
        Assert.Equal(new DeadlineCounts(0, 20), await db.Get<RequestDeadlines>().CountsAsync(Cancellation));
    }
}
