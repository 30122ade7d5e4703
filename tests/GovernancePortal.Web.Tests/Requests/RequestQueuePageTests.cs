using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Requests;

/// <summary>
/// The privacy officers' request queue through the real host: officers see every employee's open
/// requests, the most urgent first; an employee gets the access-denied answer and nobody's request.
/// Requests are idempotent per subject, kind and scope, so each test files in scopes of its own.
/// </summary>
public sealed class RequestQueuePageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Path = "/requests";
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";

    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private RequestDesk Desk => portal.Database.Get<RequestDesk>();

    [Fact]
    public async Task RequestQueue_Priya_SeesAlicesAndBobsOpenRequests_MostUrgentFirst_WithDaysLeft()
    {
        // Filed in this order, and the first extended to the limit: the most urgent is neither the oldest nor the newest.
        var alicesErasure = await FileAsync(Alice, RequestKind.Erasure, "mci", "keystrokes");
        var bobsErasure = await FileAsync(Bob, RequestKind.Erasure, "mci", "keystrokes");
        var alicesExport = await FileAsync(Alice, RequestKind.Export, "mci", null);
        await Desk.ExtendAsync(alicesErasure.Reference, alicesErasure.ReceivedAt.AddMonths(3), "Backups to go through.", Priya, Cancellation);
        alicesErasure = alicesErasure with { ExtendedDueAt = alicesErasure.ReceivedAt.AddMonths(3) };
        using var priya = await portal.SignedInAsAsync(Priya.Name);

        var before = DateTimeOffset.UtcNow;
        var rows = await QueueAsync(priya);
        var after = DateTimeOffset.UtcNow;

        var mine = rows.Where(row => row.Reference == alicesErasure.Reference || row.Reference == bobsErasure.Reference || row.Reference == alicesExport.Reference).ToList();
        Assert.Equal([bobsErasure.Reference, alicesExport.Reference, alicesErasure.Reference], mine.Select(row => row.Reference));
        Assert.Equal([Bob, Alice, Alice], mine.Select(row => row.Employee));
        Assert.Contains("(extended)", mine[2].Due);
        foreach (var (row, request) in mine.Zip(new[] { bobsErasure, alicesExport, alicesErasure }))
        {
            var fewest = (int)Math.Floor((request.EffectiveDueAt - after).TotalDays);
            var most = (int)Math.Floor((request.EffectiveDueAt - before).TotalDays);
            Assert.InRange(int.Parse(row.DaysLeft), fewest, most);
        }
        Assert.InRange(int.Parse(mine[2].DaysLeft), 85, 92);
    }

    [Fact]
    public async Task RequestQueue_Omar_SeesEveryOpenRequest_FewestDaysLeftFirst()
    {
        await FileAsync(Alice, RequestKind.Export, null, null);
        await FileAsync(Bob, RequestKind.Export, null, null);
        using var omar = await portal.SignedInAsAsync("omar@example.com");

        var rows = await QueueAsync(omar);

        Assert.Contains(rows, row => row.Employee == Alice);
        Assert.Contains(rows, row => row.Employee == Bob);
        var daysLeft = rows.Select(row => int.Parse(row.DaysLeft)).ToList();
        Assert.Equal(daysLeft.Order(), daysLeft);
    }

    [Theory]
    [InlineData(Alice)]
    [InlineData(Bob)]
    public async Task RequestQueue_Employee_GetsAccessDenied_AndNoOnesRequests(string employee)
    {
        var alices = await FileAsync(Alice, RequestKind.Objection, "mci", "transcriptions");
        var bobs = await FileAsync(Bob, RequestKind.Objection, "mci", "transcriptions");
        using var priya = await portal.SignedInAsAsync(Priya.Name);
        Assert.Contains(alices.Reference, (await QueueAsync(priya)).Select(row => row.Reference));
        using var browser = await portal.SignedInAsAsync(employee);

        foreach (var url in new[] { Path, $"{Path}?search={alices.Reference}&kind=objection&openOnly=false", $"{Path}?search={bobs.Reference}" })
        {
            using var page = await browser.GetPageAsync(url);
            using var plain = await browser.GetAsync(url, Cancellation);

            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.Equal("/access-denied", page.RedirectTarget("returnUrl").Path);
            Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
            foreach (var response in new[] { page, plain })
            {
                var body = await response.Content.ReadAsStringAsync(Cancellation);
                Assert.DoesNotContain(alices.Reference, body);
                Assert.DoesNotContain(bobs.Reference, body);
                Assert.DoesNotContain("Request queue", body);
            }
        }
    }

    [Fact]
    public async Task RequestQueue_Opening_WritesOneAuditEvent_WithTheOfficerAndTheNumberOfRowsShown()
    {
        await FileAsync(Alice, RequestKind.Erasure, "endpoint-security", null);
        using var priya = await portal.SignedInAsAsync(Priya.Name);
        var before = await QueueViewsAsync(portal.Database);

        var document = await priya.GetDocumentAsync(Path);

        var rows = document.QuerySelectorAll("tbody tr").Length;
        var views = await QueueViewsAsync(portal.Database);
        var viewed = Assert.Single(views.Skip(before.Count));
        Assert.Equal((Priya.Name, "Employee,PrivacyOfficer", (long?)rows), (viewed.Actor, viewed.ActorRoles, viewed.RecordCount));
        Assert.StartsWith($"rows 1-{rows} of ", viewed.Detail);
        Assert.DoesNotContain(Alice, viewed.Detail);
        Assert.Contains($"Showing 1–{rows} of", document.QuerySelector("[data-testid=queue-range]")?.TextContent);
    }

    [Fact]
    public async Task RequestQueue_TheOfficersOwnRequest_SaysAnotherOfficerDecidesIt_AndOffersNoAction()
    {
        var priyas = await FileAsync(Priya.Name, RequestKind.Export, "endpoint-security", null);
        var alices = await FileAsync(Alice, RequestKind.Export, "endpoint-security", null);
        using var priya = await portal.SignedInAsAsync(Priya.Name);
        using var omar = await portal.SignedInAsAsync("omar@example.com");

        var forPriya = await priya.GetDocumentAsync(Path);
        var forOmar = await omar.GetDocumentAsync(Path);

        var own = Row(forPriya, priyas.Reference);
        Assert.Contains("another privacy officer decides it", own.QuerySelector("[data-testid=own-request]")?.TextContent);
        Assert.Empty(own.QuerySelectorAll("button"));
        Assert.Null(Row(forPriya, alices.Reference).QuerySelector("[data-testid=own-request]"));
        Assert.Contains("Extend", Row(forPriya, alices.Reference).QuerySelector("button")?.TextContent);
        Assert.Contains("Extend", Row(forOmar, priyas.Reference).QuerySelector("button")?.TextContent);
    }

    public static TheoryData<Engine> Engines => TestDatabase.Engines;

    [Theory, MemberData(nameof(Engines))]
    public async Task RequestQueue_Of6000Requests_ShowsTheMostOverdueFirst_AndTheTotal(Engine engine)
    {
        await using var fresh = PortalFactory.For(engine);
        await fresh.InitializeAsync();
        const int filed = 6_000;
        var now = DateTimeOffset.UtcNow;
        await using (var connection = await fresh.Database.OpenAsync())
        {
            var alice = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @Alice", new { Alice });
            var open = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM requests WHERE status IN ('received', 'in_progress')");
            Assert.Equal(0, open);
            await using var transaction = await connection.BeginTransactionAsync(Cancellation);
            await connection.ExecuteAsync("""
                INSERT INTO requests (reference, subject_id, kind, status, received_at, due_at)
                VALUES (@Reference, @SubjectId, 'erasure', 'received', @ReceivedAt, @DueAt)
                """, Enumerable.Range(0, filed).Select(i => new
                {
                    Reference = $"ERA-Q{i:D6}",
                    SubjectId = alice,
                    ReceivedAt = now.AddHours(i - filed),
                    DueAt = now.AddHours(i - filed).AddMonths(1),
                }), transaction);
            await transaction.CommitAsync(Cancellation);
        }
        using var priya = await fresh.SignedInAsAsync(Priya.Name);

        var document = await priya.GetDocumentAsync(Path);

        var references = document.QuerySelectorAll("tbody tr td[data-label=Request] code").Select(code => code.TextContent.Trim()).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"ERA-Q{i:D6}"), references);
        Assert.Contains("overdue", Row(document, "ERA-Q000000").QuerySelector("td[data-label='Days left']")?.TextContent);
        Assert.Contains("Showing 1–50 of 6,000 open requests", document.QuerySelector("[data-testid=queue-range]")?.TextContent);
    }

    private async Task<DataRequest> FileAsync(string email, string kind, string? programKey, string? categoryKey)
    {
        await using var connection = await portal.Database.OpenAsync();
        var subjectId = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
        return await Desk.SubmitAsync(subjectId, kind, programKey, categoryKey, new Actor(email, [Roles.Employee], subjectId), Cancellation);
    }

    /// <summary>The queue's rows as the officer first sees them (open requests only).</summary>
    private static async Task<IReadOnlyList<QueueRow>> QueueAsync(HttpClient officer)
    {
        var document = await officer.GetDocumentAsync(Path);
        Assert.Contains("Request queue", document.QuerySelector("h1")?.TextContent);
        return document.QuerySelectorAll("tbody tr")
            .Select(row => new QueueRow(
                row.QuerySelector("td[data-label=Request] code")?.TextContent.Trim() ?? "",
                row.QuerySelector("td[data-label=Employee]")?.TextContent.Trim() ?? "",
                row.QuerySelector("td[data-label=Due]")?.TextContent.Trim() ?? "",
                row.QuerySelector("td[data-label='Days left']")?.TextContent.Trim() ?? ""))
            .ToList();
    }

    private static IElement Row(IDocument document, string reference) =>
        document.QuerySelectorAll("tbody tr").Single(row => row.QuerySelector("td[data-label=Request] code")?.TextContent.Trim() == reference);

    private static async Task<IReadOnlyList<AuditEvent>> QueueViewsAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.RequestQueueViewed).ToList();
    }

    private sealed record QueueRow(string Reference, string Employee, string Due, string DaysLeft);
}
