using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Requests;

/// <summary>
/// A privacy officer is an employee too: their own requests and objections are decided by another
/// officer. The person is told apart by subject id, so a changed email does not let them through.
/// </summary>
public sealed class OwnRequestTests : DatabaseTests
{
    private const string PriyaEmail = "priya@example.com";

    [Theory, MemberData(nameof(Engines))]
    public async Task Extend_TheOfficersOwnRequest_IsRefused_AndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var priya = await OfficerAsync(db, PriyaEmail);
        var desk = db.Get<RequestDesk>();
        var own = await desk.SubmitAsync(priya.SubjectId!.Value, RequestKind.Export, null, null, priya, Cancellation);

        var refused = await Assert.ThrowsAsync<OwnRequestRefused>(() =>
            desk.ExtendAsync(own.Reference, own.ReceivedAt.AddMonths(2), "I am busy", priya, Cancellation));

        Assert.Contains("another privacy officer", refused.Message);
        var stored = await desk.GetForSubjectAsync(priya.SubjectId.Value, own.Reference, Cancellation);
        Assert.Null(stored.ExtendedDueAt);
        Assert.Equal(0, await CountEventsAsync(db, "request.extended"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Decide_TheOfficersOwnObjection_IsRefused_EvenUnderAChangedEmail(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await SampleData.ProgramAsync(db, "endpoint-security", "process_events");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE programs SET legal_basis = 'legitimate_interest' WHERE key = 'endpoint-security'");
        var priya = await OfficerAsync(db, PriyaEmail);
        var objection = await db.Get<Withdrawals>().WithdrawAsync(priya.SubjectId!.Value, "endpoint-security", null, priya, Cancellation);
        var renamed = priya with { Name = "priya.sharma@example.com" };
        var desk = db.Get<RequestDesk>();

        var refused = await Assert.ThrowsAsync<OwnRequestRefused>(() =>
            desk.DecideObjectionAsync(objection.FollowUp.Reference, uphold: true, "Upheld, obviously", renamed, Cancellation));

        Assert.Contains("your own", refused.Message);
        Assert.True((await desk.GetForSubjectAsync(priya.SubjectId.Value, objection.FollowUp.Reference, Cancellation)).IsOpen);
        Assert.Single(await SampleData.ActiveRevocationsAsync(db, priya.SubjectId.Value));
        Assert.Equal(0, await CountEventsAsync(db, "objection.upheld"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Decide_AnotherOfficersRequest_IsAllowed(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var priya = await OfficerAsync(db, PriyaEmail);
        var omar = await OfficerAsync(db, "omar@example.com");
        var desk = db.Get<RequestDesk>();
        var priyas = await desk.SubmitAsync(priya.SubjectId!.Value, RequestKind.Export, null, null, priya, Cancellation);

        await desk.ExtendAsync(priyas.Reference, priyas.ReceivedAt.AddMonths(2), "Many archives", omar, Cancellation);

        Assert.NotNull((await desk.GetForSubjectAsync(priya.SubjectId.Value, priyas.Reference, Cancellation)).ExtendedDueAt);
    }

    private static async Task<Actor> OfficerAsync(TestDatabase db, string email) =>
        new(email, [Roles.PrivacyOfficer, Roles.Employee], await SampleData.SubjectAsync(db, email));

    private static async Task<long> CountEventsAsync(TestDatabase db, string action)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = @action", new { action });
    }
}
