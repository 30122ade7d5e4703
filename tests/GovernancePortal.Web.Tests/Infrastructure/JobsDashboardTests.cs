using System.Net;
using GovernancePortal.Web.Infrastructure;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;

namespace GovernancePortal.Web.Tests.Infrastructure;

/// <summary>The Hangfire dashboard is at /admin/jobs for Admins only; everyone else is refused without a byte of it.</summary>
public sealed class JobsDashboardTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Title = "Governance Portal jobs";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/admin/jobs")]
    [InlineData("/admin/jobs/recurring")]
    [InlineData("/admin/jobs/jobs/failed")]
    public async Task Dashboard_AsAdmin_IsShown(string path)
    {
        using var admin = await portal.SignedInAsAsync("admin@example.com");

        using var response = await admin.GetPageAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Title, await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Dashboard_AsAdmin_ListsEveryRecurringJob()
    {
        using var admin = await portal.SignedInAsAsync("admin@example.com");

        using var response = await admin.GetPageAsync("/admin/jobs/recurring");

        var page = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.All(["collection-stored-answers-purge", "retention-sweep", "pause-check", "grant-expiry", "request-deadlines"],
            id => Assert.Contains(id, page));
    }

    [Theory]
    [InlineData("/admin/jobs")]
    [InlineData("/admin/jobs/recurring")]
    [InlineData("/admin/jobs/stats")]
    public async Task Dashboard_Anonymous_IsSentToSignIn(string path)
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetPageAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var (target, returnUrl) = response.RedirectTarget("returnUrl");
        Assert.Equal("/account/dev-sign-in", target);
        Assert.Equal(path, returnUrl);
        Assert.DoesNotContain(Title, await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Theory]
    [InlineData("alice@example.com")]   // employee
    [InlineData("priya@example.com")]   // privacy officer
    [InlineData("dana@example.com")]    // data consumer
    [InlineData("audrey@example.com")]  // auditor
    public async Task Dashboard_AnyoneButAnAdmin_IsForbidden(string email)
    {
        using var client = await portal.SignedInAsAsync(email);

        foreach (var path in new[] { "/admin/jobs", "/admin/jobs/recurring", "/admin/jobs/jobs/failed", "/admin/jobs/stats" })
        {
            using var response = await client.GetAsync(path, Cancellation);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.DoesNotContain(Title, await response.Content.ReadAsStringAsync(Cancellation));
        }
    }

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("priya@example.com")]
    [InlineData("dana@example.com")]
    [InlineData("audrey@example.com")]
    public async Task Dashboard_AnyoneButAnAdminInABrowser_IsSentToAccessDenied(string email)
    {
        using var client = await portal.SignedInAsAsync(email);

        using var response = await client.GetPageAsync("/admin/jobs/recurring");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/access-denied", response.RedirectTarget("returnUrl").Path);
    }

    [Fact]
    public async Task TheOldAddress_ServesNoDashboard_EvenToAnAdmin()
    {
        using var admin = await portal.SignedInAsAsync("admin@example.com");

        foreach (var path in new[] { "/jobs", "/jobs/recurring", "/jobs/stats" })
        {
            using var response = await admin.GetPageAsync(path);
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(Title, await response.Content.ReadAsStringAsync(Cancellation));
        }
    }

    [Fact]
    public void FailedRuns_AreRetriedThreeTimes_ThenKeptAsFailed()
    {
        using var host = portal.CreateBrowser();   // the host configures Hangfire as it starts

        var retries = GlobalJobFilters.Filters.Select(f => f.Instance).OfType<AutomaticRetryAttribute>().ToList();

        // Hangfire's own default (10 attempts) is replaced, not added to.
        Assert.NotEmpty(retries);
        Assert.All(retries, retry => Assert.Same(JobsSetup.Retries, retry));
        Assert.Equal(3, JobsSetup.Retries.Attempts);
        Assert.Equal(AttemptsExceededAction.Fail, JobsSetup.Retries.OnAttemptsExceeded);
    }
}
