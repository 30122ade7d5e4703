using System.Net;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
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

    private sealed record QueueRow(string Reference, string Employee, string Due, string DaysLeft);
}
