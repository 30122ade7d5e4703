using System.Net;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Infrastructure;

public sealed class JobsDashboardTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_AsAdmin_ShowsTheDashboard()
    {
        using var admin = await portal.SignedInAsAsync("admin@example.com");

        using var response = await admin.GetPageAsync("/jobs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Governance Portal jobs", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Jobs_AsPrivacyOfficer_IsForbidden()
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        using var response = await priya.GetAsync("/jobs", Cancellation);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("Governance Portal jobs", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Jobs_AsPrivacyOfficerInABrowser_IsSentToAccessDenied()
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        using var response = await priya.GetPageAsync("/jobs/recurring");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/access-denied", response.RedirectTarget("returnUrl").Path);
    }
}
