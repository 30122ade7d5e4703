using System.Net;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Crypto;
using GovernancePortal.Erasure;
using GovernancePortal.Holds;
using GovernancePortal.Requests;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Erasure;

/// <summary>
/// The signed erasure receipt through the real host (<c>/me/requests/{reference}/receipt</c>) and the request
/// page, with the demo data: alice withdraws from a category of mci and the erasure sweep carries it out.
/// </summary>
public sealed class ReceiptDownloadTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<long> SubjectIdAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @email", new { email });
    }

    private async Task<DataRequest> ErasedAsync(string email, string category)
    {
        var id = await SubjectIdAsync(email);
        var outcome = await portal.Database.Get<Withdrawals>().WithdrawAsync(id, "mci", category, new Actor(email, [Roles.Employee], id), Cancellation);
        await portal.Database.Get<ErasureSweep>().RunAsync(Cancellation);
        return outcome.FollowUp;
    }

    [Fact]
    public async Task Receipt_Alice_DownloadsHerSignedReceipt_WhichVerifiesWithThePortalsKey_AndHerPageOffersIt()
    {
        var request = await ErasedAsync("alice@example.com", "transcriptions");
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var response = await alice.GetAsync($"/me/requests/{request.Reference}/receipt", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"erasure-receipt-{request.Reference}.txt", response.Content.Headers.ContentDisposition?.FileNameStar);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        var pem = string.Concat((await portal.Database.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem));
        var check = ErasureReceipt.Verify(text, pem);
        Assert.True(check.Valid, check.Reason);
        Assert.Equal(request.Reference, check.Receipt!.Reference);
        Assert.Equal("transcriptions", check.Receipt.Category);

        var page = await alice.GetDocumentAsync($"/me/requests/{request.Reference}");
        var receipt = page.QuerySelector("[data-testid=receipt]")!;
        Assert.Contains($"{check.Receipt.TotalRecords:N0} record", receipt.TextContent);
        Assert.Contains(receipt.QuerySelectorAll("a"), a => a.GetAttribute("href") == $"/me/requests/{request.Reference}/receipt");
        Assert.StartsWith("Completed", page.QuerySelector("[data-testid=status]")!.TextContent.Trim());
    }

    [Fact]
    public async Task Receipt_AnotherPersonsReference_AnOpenRequest_AnExport_AndGuesses_AreNotFound()
    {
        var alices = await ErasedAsync("alice@example.com", "mouse_movements");
        var bobId = await SubjectIdAsync("bob@example.com");
        var bobsExport = await portal.Database.Get<RequestDesk>().SubmitAsync(bobId, RequestKind.Export, null, null, new Actor("bob@example.com", [Roles.Employee], bobId), Cancellation);
        // Bob's own erasure that has not run yet: no receipt to download.
        var bobsOpen = await portal.Database.Get<RequestDesk>().SubmitAsync(bobId, RequestKind.Erasure, "mci", "performance_data", new Actor("bob@example.com", [Roles.Employee], bobId), Cancellation);
        using var bob = await portal.SignedInAsAsync("bob@example.com");
        var aliceId = await SubjectIdAsync("alice@example.com");

        foreach (var url in new[]
        {
            $"/me/requests/{alices.Reference}/receipt",
            $"/me/requests/{alices.Reference}/receipt?subject={aliceId}&subjectId={aliceId}",
            $"/me/requests/{alices.Reference.ToLowerInvariant()}/receipt",
            $"/me/requests/{bobsExport.Reference}%2F..%2F{alices.Reference}/receipt",
            $"/me/requests/{bobsExport.Reference}/receipt",
            $"/me/requests/{bobsOpen.Reference}/receipt",
            "/me/requests/ERA-AAAA-AAAA/receipt",
            $"/me/requests/{new string('X', 5_000)}/receipt",
        })
        {
            using var response = await bob.GetAsync(url, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url}: {(int)response.StatusCode}");
            Assert.DoesNotContain("gp-erasure-receipt", await response.Content.ReadAsStringAsync(Cancellation));
        }
    }

    [Fact]
    public async Task Receipt_Anonymous_IsSentToSignIn()
    {
        var request = await ErasedAsync("bob@example.com", "transcriptions");
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetAsync($"/me/requests/{request.Reference}/receipt", Cancellation);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("gp-erasure-receipt", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task RequestPage_UnderAHold_ShowsOnHoldWithTheNotice_NotTheInternalReason()
    {
        var priyaId = await SubjectIdAsync("priya@example.com");
        var officer = new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], priyaId);
        var hold = await portal.Database.Get<LegalHolds>().PlaceAsync(new HoldPlacement("bob@example.com", "mci", "Internal: grievance filed by Bob",
            "CASE-42", "priya@example.com", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(40), "Your data in this program is kept while a case is open."), officer, Cancellation);
        var request = await ErasedAsync("bob@example.com", "keystrokes");
        using var bob = await portal.SignedInAsAsync("bob@example.com");

        var page = await bob.GetDocumentAsync($"/me/requests/{request.Reference}");

        Assert.Equal("On hold", page.QuerySelector("[data-testid=status]")!.TextContent.Trim());
        Assert.Contains(hold.Notice, page.QuerySelector("[data-testid=on-hold]")!.TextContent);
        Assert.DoesNotContain("grievance", page.Body!.TextContent);
        Assert.DoesNotContain("CASE-42", page.Body!.TextContent);
        using var receipt = await bob.GetAsync($"/me/requests/{request.Reference}/receipt", Cancellation);
        Assert.Equal(HttpStatusCode.NotFound, receipt.StatusCode);

        await portal.Database.Get<LegalHolds>().ReleaseAsync(hold.Id, "Case closed.", officer, Cancellation);
        await portal.Database.Get<ErasureSweep>().RunAsync(Cancellation);

        var after = await bob.GetDocumentAsync($"/me/requests/{request.Reference}");
        Assert.Null(after.QuerySelector("[data-testid=on-hold]"));
        Assert.Contains("kept", after.QuerySelector("[data-testid=receipt]")!.TextContent);
    }
}
