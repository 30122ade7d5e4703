using System.Net;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Holds;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Holds;

/// <summary>The legal-hold pages through the real host and the demo data: for privacy officers only, and audited.</summary>
public sealed class HoldPagesTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Holds_Priya_SeesTheHoldWithItsCaseAndNotice_AndTheViewIsAudited()
    {
        long priyaId;
        await using (var connection = await portal.Database.OpenAsync())
            priyaId = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'priya@example.com'");
        var officer = new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], priyaId);
        var hold = await portal.Database.Get<LegalHolds>().PlaceAsync(new HoldPlacement(null, "endpoint-security", "Regulator's inquiry",
            $"CASE-{Guid.NewGuid():N}", "omar@example.com", DateOnly.FromDateTime(DateTime.UtcNow).AddDays(5), "Kept for a regulator's inquiry."), officer, Cancellation);
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var page = await priya.GetDocumentAsync("/holds");
        var home = await priya.GetDocumentAsync("/holds/new");

        var row = Assert.Single(page.QuerySelectorAll("[data-testid=hold-row]"), r => r.TextContent.Contains(hold.CaseReference));
        Assert.Contains("everyone in Endpoint security monitoring", row.TextContent);
        Assert.Contains(hold.Notice, row.TextContent);
        Assert.NotNull(home.QuerySelector("h1"));
        await using var check = await portal.Database.OpenAsync();
        Assert.True(await check.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = @a AND actor = 'priya@example.com'", new { a = AuditActions.HoldsViewed }) >= 1);
        var due = await portal.Database.Get<LegalHolds>().DueForReviewAsync(officer, Cancellation);
        Assert.Contains(due, review => review.Hold.Id == hold.Id && review.Reminder == 7);
    }

    [Theory]
    [InlineData("alice@example.com", "/holds")]
    [InlineData("dana@example.com", "/holds")]
    [InlineData("audrey@example.com", "/holds")]
    [InlineData("admin@example.com", "/holds")]
    [InlineData("alice@example.com", "/holds/new")]
    [InlineData("audrey@example.com", "/holds/new")]
    public async Task Holds_SomeoneNotAPrivacyOfficer_IsForbidden(string email, string path)
    {
        using var client = await portal.SignedInAsAsync(email);

        using var response = await client.GetAsync(path, Cancellation);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Holds_Anonymous_IsNotShownThem()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetAsync("/holds", Cancellation);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PlaceAndRelease_SomeoneNotAPrivacyOfficer_IsRefusedByTheLibrary()
    {
        var alice = new Actor("alice@example.com", [Roles.Employee], 1);
        var holds = portal.Database.Get<LegalHolds>();

        await Assert.ThrowsAsync<RuleViolation>(() => holds.PlaceAsync(new HoldPlacement("bob@example.com", null, "r", "c", "o",
            DateOnly.FromDateTime(DateTime.UtcNow).AddDays(9), "n"), alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.ReleaseAsync(1, "note", alice, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => holds.ListAsync(alice, activeOnly: true, Cancellation));
    }
}
