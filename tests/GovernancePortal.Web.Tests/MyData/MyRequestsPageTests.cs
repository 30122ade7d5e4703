using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.MyData;

/// <summary>
/// "My requests" and "My data" through the real host, with two employees: whatever bob puts in the
/// query string, he sees his own requests and holdings and nothing of alice's. Filing is idempotent per
/// kind and scope, so each test files what it needs and reasons carry markers of their own.
/// </summary>
public sealed class MyRequestsPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Path = "/me/requests";
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";

    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    private static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private RequestDesk Desk => portal.Database.Get<RequestDesk>();

    /// <summary>What bob tries on alice's behalf: her ids and references by every likely name, and garbage.</summary>
    private static IEnumerable<string> TamperedQueries(long aliceId, AlicesRequests alices) =>
    [
        "",
        $"?subject={aliceId}&subjectId={aliceId}&{PortalClaims.SubjectId}={aliceId}&id={aliceId}",
        $"?reference={alices.Erasure.Reference}&ref={alices.Export.Reference}&request={alices.Objection.Reference}",
        $"?requestId={alices.Erasure.Id}&id={alices.Objection.Id}&subject={aliceId}&reference={alices.Export.Reference}",
        $"?email={Alice}&user={Alice}&as={Alice}",
        "?subject=%00&subjectId=-1&reference=%27%20OR%20%271%27%3D%271&id=0x1",
        $"?subject={aliceId}%00&reference={alices.Erasure.Reference}%00",
        $"?subject={new string('9', 4_000)}&reference={new string('A', 8_000)}",
    ];

    [Fact]
    public async Task MyRequests_Alice_SeesHerErasureExportAndObjection()
    {
        var alices = await AliceFilesAsync();
        using var alice = await portal.SignedInAsAsync(Alice);

        var page = await PageAsync(alice, Path);

        Assert.Contains(alices.Erasure.Reference, page.References);
        Assert.Contains(alices.Export.Reference, page.References);
        Assert.Contains(alices.Objection.Reference, page.References);
        Assert.Contains("Objection (endpoint-security)", page.Main);
    }

    [Fact]
    public async Task MyRequests_Bob_NeverSeesAlicesReferencesOrReasons_WhateverTheQueryString()
    {
        var alices = await AliceFilesAsync();
        var extension = $"extension-{Guid.NewGuid():N}";
        var decision = $"decision-{Guid.NewGuid():N}";
        await Desk.ExtendAsync(alices.Export.Reference, alices.Export.EffectiveDueAt.AddDays(14), extension, Priya, Cancellation);
        await Desk.DecideObjectionAsync(alices.Objection.Reference, uphold: false, decision, Omar, Cancellation);
        var bobId = await SubjectIdAsync(Bob);
        await Desk.SubmitAsync(bobId, RequestKind.Export, null, null, await EmployeeAsync(Bob), Cancellation);
        var bobs = (await Desk.ForSubjectAsync(bobId, Cancellation)).Select(r => r.Reference).ToList();
        var aliceId = await SubjectIdAsync(Alice);
        using var alice = await portal.SignedInAsAsync(Alice);
        using var bob = await portal.SignedInAsAsync(Bob);

        var alicesPage = await PageAsync(alice, Path);
        Assert.Contains(extension, alicesPage.Main);
        Assert.Contains(decision, alicesPage.Main);
        Assert.Contains(Omar.Name, alicesPage.Main);
        foreach (var query in TamperedQueries(aliceId, alices))
        {
            var page = await PageAsync(bob, Path + query);

            Assert.Equal(bobs, page.References);
            foreach (var secret in new[] { alices.Erasure.Reference, alices.Export.Reference, alices.Objection.Reference, extension, decision })
                Assert.DoesNotContain(secret, page.Html);
        }
    }

    [Fact]
    public async Task MyRequest_BobOpeningAlicesReference_IsToldNoSuchRequest_ExactlyAsForAnUnknownOne()
    {
        var alices = await AliceFilesAsync();
        var extension = $"extension-{Guid.NewGuid():N}";
        var decision = $"decision-{Guid.NewGuid():N}";
        await Desk.ExtendAsync(alices.Erasure.Reference, alices.Erasure.EffectiveDueAt.AddDays(7), extension, Priya, Cancellation);
        await Desk.DecideObjectionAsync(alices.Objection.Reference, uphold: true, decision, Omar, Cancellation);
        var aliceId = await SubjectIdAsync(Alice);
        using var alice = await portal.SignedInAsAsync(Alice);
        using var bob = await portal.SignedInAsAsync(Bob);

        Assert.Contains(extension, (await PageAsync(alice, $"{Path}/{alices.Erasure.Reference}")).Main);
        Assert.Contains(decision, (await PageAsync(alice, $"{Path}/{alices.Objection.Reference}")).Main);
        var unknown = await PageAsync(bob, $"{Path}/ERA-AAAA-AAAA");
        Assert.Contains("No such request", unknown.Title);
        foreach (var reference in new[]
        {
            alices.Erasure.Reference,
            alices.Export.Reference,
            alices.Objection.Reference,
            alices.Erasure.Reference.ToLowerInvariant(),
            alices.Erasure.Reference + "%20",
            $"{alices.Objection.Reference}?subject={aliceId}&{PortalClaims.SubjectId}={aliceId}",
        })
        {
            var page = await PageAsync(bob, $"{Path}/{reference}");

            Assert.Equal(unknown.Title, page.Title);
            Assert.Equal(Visible(unknown.Main, "ERA-AAAA-AAAA"), Visible(page.Main, Uri.UnescapeDataString(reference.Split('?')[0])));
            foreach (var secret in new[] { extension, decision, Omar.Name, "endpoint-security" })
                Assert.DoesNotContain(secret, page.Html);
        }

        // The page names the reference it was asked for; apart from that, bob learns nothing.
        static string Visible(string main, string reference) => main.Replace(reference, "REFERENCE");
    }

    [Fact]
    public async Task MyRequests_BobsRequest_IsOnlyOnHisPage()
    {
        var alices = await AliceFilesAsync();
        var bobId = await SubjectIdAsync(Bob);
        var bobs = await Desk.SubmitAsync(bobId, RequestKind.Erasure, "mci", "keystrokes", await EmployeeAsync(Bob), Cancellation);
        using var alice = await portal.SignedInAsAsync(Alice);
        using var bob = await portal.SignedInAsAsync(Bob);

        var bobsPage = await PageAsync(bob, Path);
        var alicesPages = new[]
        {
            await PageAsync(alice, Path),
            await PageAsync(alice, $"{Path}?subject={bobId}&{PortalClaims.SubjectId}={bobId}&reference={bobs.Reference}"),
        };

        Assert.Contains(bobs.Reference, bobsPage.References);
        Assert.Contains("Erasure (mci / keystrokes)", bobsPage.Main);
        Assert.All(alicesPages, page =>
        {
            Assert.Contains(alices.Erasure.Reference, page.References);
            Assert.DoesNotContain(bobs.Reference, page.Html);
            Assert.DoesNotContain("mci / keystrokes", page.Main);
        });
    }

    [Fact]
    public async Task MyRequests_Anonymous_IsSentToSignInAndBack()
    {
        var alices = await AliceFilesAsync();
        using var anonymous = portal.CreateBrowser();
        var url = $"{Path}?reference={alices.Erasure.Reference}";

        using var response = await anonymous.GetPageAsync(url);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal((DevSignInEndpoints.Path, url), response.RedirectTarget("returnUrl"));
        Assert.DoesNotContain(alices.Erasure.Reference, await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task MyData_BobWithAlicesSubjectIdInTheQueryString_SeesOnlyHisOwnCountsAndNoneOfHerHoldsOrStops()
    {
        await AliceFilesAsync();
        await MoreTranscriptionsOfAliceAsync();
        var hold = await LegalHoldOnAliceAsync();
        var aliceId = await SubjectIdAsync(Alice);
        var bobId = await SubjectIdAsync(Bob);
        var alicesCounts = Counts(await portal.Database.Get<MyDataSummary>().ForSubjectAsync(aliceId, Cancellation));
        var bobsCounts = Counts(await portal.Database.Get<MyDataSummary>().ForSubjectAsync(bobId, Cancellation));
        using var alice = await portal.SignedInAsAsync(Alice);
        using var bob = await portal.SignedInAsAsync(Bob);

        var alicesPage = await PageAsync(alice, "/me");
        Assert.Equal(alicesCounts, alicesPage.Counts);
        Assert.Contains(hold, alicesPage.Main);
        Assert.Contains("Stopped by you", alicesPage.Main);
        Assert.NotEqual(alicesCounts, bobsCounts);
        foreach (var query in new[]
        {
            "",
            $"?subject={aliceId}",
            $"?subjectId={aliceId}&{PortalClaims.SubjectId}={aliceId}&id={aliceId}&email={Alice}",
            $"?subject={aliceId}%00&subjectId=-1",
            $"?subject={new string('9', 4_000)}",
        })
        {
            var page = await PageAsync(bob, "/me" + query);

            Assert.Equal(bobsCounts, page.Counts);
            Assert.DoesNotContain(hold, page.Html);
            Assert.DoesNotContain("Stopped by you", page.Main);
        }
    }

    /// <summary>
    /// Alice asks for erasure and a copy, and objects to endpoint security (legitimate interest) from her
    /// My data page. Returns what is open now: a test that decided the objection before gets a new one.
    /// </summary>
    private async Task<AlicesRequests> AliceFilesAsync()
    {
        var aliceId = await SubjectIdAsync(Alice);
        var actor = await EmployeeAsync(Alice);
        var erasure = await Desk.SubmitAsync(aliceId, RequestKind.Erasure, null, null, actor, Cancellation);
        var export = await Desk.SubmitAsync(aliceId, RequestKind.Export, null, null, actor, Cancellation);
        var objection = await portal.Database.Get<Withdrawals>().WithdrawAsync(aliceId, "endpoint-security", null, actor, Cancellation);
        Assert.Equal(RequestKind.Objection, objection.FollowUp.Kind);
        return new AlicesRequests(erasure, export, objection.FollowUp);
    }

    /// <summary>The demo data gives alice and bob the same counts; this sets hers apart.</summary>
    private async Task MoreTranscriptionsOfAliceAsync()
    {
        var aliceId = await SubjectIdAsync(Alice);
        await using var connection = await portal.Database.OpenAsync();
        var (programId, categoryId) = await connection.QuerySingleAsync<(long, long)>(
            "SELECT p.id, c.id FROM programs p JOIN categories c ON c.program_id = p.id WHERE p.key = 'mci' AND c.key = 'transcriptions'");
        await using var scope = await portal.Database.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
        await portal.Database.Get<RecordStore>().AddAsync(scope,
            [.. Enumerable.Range(1, 3).Select(i => new NewRecord(programId, categoryId, aliceId, DateTimeOffset.UtcNow.AddMinutes(-i), "{\"text\":\"only alice's\"}"))]);
        await scope.CommitAsync();
    }

    private async Task<string> LegalHoldOnAliceAsync()
    {
        var reason = $"hold-{Guid.NewGuid():N}";
        await using var connection = await portal.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO legal_holds (subject_id, program_id, reason, notice, placed_by, placed_at)
            VALUES (@Subject, (SELECT id FROM programs WHERE key = 'mci'), 'internal: litigation', @Reason, @PlacedBy, @Now)
            """, new { Subject = await SubjectIdAsync(Alice), Reason = reason, PlacedBy = Priya.Name, Now = DateTimeOffset.UtcNow });
        return reason;
    }

    private async Task<Actor> EmployeeAsync(string email) => new(email, [Roles.Employee], await SubjectIdAsync(email));

    private async Task<long> SubjectIdAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        var id = await connection.ExecuteScalarAsync<long?>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
        return id ?? throw new InvalidOperationException($"The demo data has no subject {email}.");
    }

    /// <summary>Each category's record count in the order My data lists them, as "program / category: count".</summary>
    private static IReadOnlyList<string> Counts(IReadOnlyList<ProgramHoldings> holdings) =>
        holdings.SelectMany(holding => holding.Categories.Select(category =>
            $"{holding.Program.Name} / {category.Category.Name}: {category.RecordCount:N0}")).ToList();

    private static async Task<RenderedPage> PageAsync(HttpClient client, string url)
    {
        var document = await client.GetDocumentAsync(url);
        return new RenderedPage(
            document.Source.Text,
            document.Heading(),
            document.MainText(),
            document.QuerySelectorAll("td[data-label=Reference] code").Select(e => e.TextContent.Trim()).ToList(),
            document.QuerySelectorAll(".mud-card").SelectMany(CardCounts).ToList());
    }

    private static IEnumerable<string> CardCounts(IElement card)
    {
        var program = card.QuerySelector(".mud-card-header a")?.TextContent.Trim();
        return card.QuerySelectorAll("tbody tr").Select(row =>
        {
            // The name without what the page appends to it: " (paused)", " (stopped by you)".
            var category = (row.QuerySelector("td[data-label=Category]")?.TextContent ?? "").Split(" (")[0].Trim();
            return $"{program} / {category}: {row.QuerySelector("td[data-label=Records]")?.TextContent.Trim()}";
        });
    }

    private sealed record AlicesRequests(DataRequest Erasure, DataRequest Export, DataRequest Objection);

    private sealed record RenderedPage(string Html, string Title, string Main, IReadOnlyList<string> References, IReadOnlyList<string> Counts);
}
