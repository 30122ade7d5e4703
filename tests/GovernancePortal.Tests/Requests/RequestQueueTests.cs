using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Requests;

/// <summary>
/// The officers' queue is ordered and paged by the database, so no open request falls off however many
/// there are, and every page an officer reads is written to the audit log first.
/// </summary>
public sealed class RequestQueueTests : DatabaseTests
{
    private const int Filed = 6_000;
    private const int Closed = 10;

    private static readonly DateTimeOffset FirstReceived = new(2025, 1, 6, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(FirstReceived.AddHours(Filed));

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_Of6000Requests_ShowsTheMostOverdueFirst_PagedInSqlWithTheTotal(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);
        var desk = db.Get<RequestDesk>();

        var first = await desk.QueueAsync(new RequestQueueFilter(), 0, 50, priya, Cancellation);
        var last = await desk.QueueAsync(new RequestQueueFilter(), Filed - Closed - 50, 50, priya, Cancellation);

        // The oldest requests are the most overdue; the 5,000 newest alone would start at number 1,000.
        Assert.Equal(Filed - Closed, first.Total);
        Assert.Equal(50, first.Requests.Count);
        Assert.Equal(Reference(Closed), first.Requests[0].Reference);
        Assert.Equal(Enumerable.Range(Closed, 51).Where(i => i != Extended).Take(50).Select(Reference), first.Requests.Select(r => r.Reference));
        Assert.True(first.Requests[0].EffectiveDueAt < _clock.GetUtcNow().AddMonths(-7));
        Assert.Equal(Reference(Filed - 1), last.Requests[^1].Reference);
        Assert.All(first.Requests, r => Assert.True(r.IsOpen));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_Everything_PutsOpenRequestsBeforeClosedOnes_AcrossPages(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);
        var desk = db.Get<RequestDesk>();

        var first = await desk.QueueAsync(new RequestQueueFilter(OpenOnly: false), 0, 20, priya, Cancellation);
        var last = await desk.QueueAsync(new RequestQueueFilter(OpenOnly: false), Filed - 20, 20, priya, Cancellation);

        Assert.Equal(Filed, first.Total);
        Assert.Equal(Reference(Closed), first.Requests[0].Reference);
        // Closed requests come last, the most recently received first.
        Assert.Equal(Enumerable.Range(0, Closed).Reverse().Select(Reference), last.Requests.TakeLast(Closed).Select(r => r.Reference));
        Assert.All(last.Requests.SkipLast(Closed), r => Assert.True(r.IsOpen));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_AnExtendedDeadline_CountsAsTheDeadlineInForce(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);

        var page = await db.Get<RequestDesk>().QueueAsync(new RequestQueueFilter(), 0, RequestQueueResult.MaxLimit, priya, Cancellation);
        var extended = await db.Get<RequestDesk>().QueueAsync(new RequestQueueFilter(Search: Reference(Extended)), 0, 1, priya, Cancellation);

        Assert.Equal(1, extended.Total);
        Assert.DoesNotContain(Reference(Extended), page.Requests.Select(r => r.Reference));
        var dues = page.Requests.Select(r => r.EffectiveDueAt).ToList();
        Assert.Equal(dues.Order(), dues);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_FiltersByKindAndSearch_InTheDatabase(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);
        var desk = db.Get<RequestDesk>();

        var exports = await desk.QueueAsync(new RequestQueueFilter(Kind: RequestKind.Export), 0, 10, priya, Cancellation);
        var bobs = await desk.QueueAsync(new RequestQueueFilter(Search: "BOB@"), 0, 10, priya, Cancellation);
        var one = await desk.QueueAsync(new RequestQueueFilter(Search: Reference(4_321).ToLowerInvariant()), 0, 10, priya, Cancellation);
        var wildcard = await desk.QueueAsync(new RequestQueueFilter(Search: "%"), 0, 10, priya, Cancellation);

        Assert.Equal((Filed - Closed) / 2, exports.Total);
        Assert.All(exports.Requests, r => Assert.Equal(RequestKind.Export, r.Kind));
        Assert.Equal((Filed - Closed) / 2, bobs.Total);
        Assert.All(bobs.Requests, r => Assert.Equal("bob@example.com", r.SubjectEmail));
        Assert.Equal([Reference(4_321)], one.Requests.Select(r => r.Reference));
        Assert.Equal(0, wildcard.Total);
        var tooLong = await Assert.ThrowsAsync<RuleViolation>(() =>
            desk.QueueAsync(new RequestQueueFilter(Search: new string('a', RequestQueueFilter.MaxSearchLength + 1)), 0, 10, priya, Cancellation));
        Assert.Equal("search", tooLong.Field);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_EachPageRead_WritesAnAuditEventFirst_WithTheOfficerAndTheRowCount_NeverContent(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);
        var desk = db.Get<RequestDesk>();

        await desk.QueueAsync(new RequestQueueFilter(), 0, 50, priya, Cancellation);
        await desk.QueueAsync(new RequestQueueFilter(Kind: RequestKind.Erasure), Filed - 60, 50, priya, Cancellation);

        var events = await EventsAsync(db, AuditActions.RequestQueueViewed);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal((priya.Name, "Employee,PrivacyOfficer", (long?)null), (e.Actor, e.ActorRoles, e.SubjectId)));
        Assert.Equal([50L, 0L], events.Select(e => e.RecordCount ?? -1));
        Assert.Equal("rows 1-50 of 5990; open requests", events[0].Detail);
        Assert.Equal("no rows of 2995; open requests, kind erasure", events[1].Detail);
        Assert.All(events, e => Assert.DoesNotContain("@", e.Detail));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Queue_ByAnyoneButAPrivacyOfficer_IsRefused_AndReadsNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        await FileManyAsync(db);
        var auditor = new Actor("audrey@example.com", [Roles.Auditor, Roles.Employee]);

        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<RequestDesk>().QueueAsync(new RequestQueueFilter(), 0, 50, auditor, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<RequestDesk>().OpenAsync(Reference(1), auditor, Cancellation));

        Assert.Empty(await EventsAsync(db, AuditActions.RequestQueueViewed));
        Assert.Empty(await EventsAsync(db, AuditActions.RequestViewed));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Open_ARequest_WritesAnEventAboutItsEmployee_WhoSeesItInTheirAccessHistory(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var priya = await OfficerAsync(db, "priya@example.com");
        await FileManyAsync(db);

        var opened = await db.Get<RequestDesk>().OpenAsync(Reference(17), priya, Cancellation);

        var viewed = Assert.Single(await EventsAsync(db, AuditActions.RequestViewed));
        Assert.Equal((priya.Name, opened.SubjectId, (long?)1, Reference(17)), (viewed.Actor, viewed.SubjectId, viewed.RecordCount, viewed.Detail));
        var history = await db.Get<AccessHistory>().PageAsync(opened.SubjectId, opened.SubjectEmail!, AccessFilter.None, 0, 10, Cancellation);
        Assert.Equal(AuditActions.RequestViewed, Assert.Single(history.Events).Action);
        await Assert.ThrowsAsync<NotFoundProblem>(() => db.Get<RequestDesk>().OpenAsync("ERA-NONE-NONE", priya, Cancellation));
    }

    private const int Extended = 12;

    private static string Reference(int index) => $"ERA-T{index:D6}";

    /// <summary>
    /// Requests received an hour apart, alternately alice's erasures and bob's exports: the first
    /// <see cref="Closed"/> are completed, and one early request was extended past the others.
    /// </summary>
    private static async Task FileManyAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection);
        await connection.ExecuteAsync("""
            INSERT INTO requests (reference, subject_id, kind, status, received_at, due_at, extended_due_at, completed_at)
            VALUES (@Reference, @SubjectId, @Kind, @Status, @ReceivedAt, @DueAt, @ExtendedDueAt, @CompletedAt)
            """, Enumerable.Range(0, Filed).Select(i =>
            {
                var received = FirstReceived.AddHours(i);
                return new
                {
                    Reference = Reference(i),
                    SubjectId = i % 2 == 0 ? alice : bob,
                    Kind = i % 2 == 0 ? RequestKind.Erasure : RequestKind.Export,
                    Status = i < Closed ? RequestStatus.Completed : RequestStatus.Received,
                    ReceivedAt = received,
                    DueAt = received.AddMonths(1),
                    ExtendedDueAt = i == Extended ? received.AddMonths(3) : (DateTimeOffset?)null,
                    CompletedAt = i < Closed ? received.AddDays(2) : (DateTimeOffset?)null,
                };
            }), transaction);
        await transaction.CommitAsync();
    }

    private static async Task<Actor> OfficerAsync(TestDatabase db, string email) =>
        new(email, [Roles.PrivacyOfficer, Roles.Employee], await SampleData.SubjectAsync(db, email));

    private static async Task<IReadOnlyList<AuditEvent>> EventsAsync(TestDatabase db, string action)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == action).ToList();
    }
}
