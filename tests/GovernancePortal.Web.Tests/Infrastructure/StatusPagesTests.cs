using System.Net;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Infrastructure;

public sealed class StatusPagesTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnknownPath_SignedIn_ShowsTheNotFoundPageWith404()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var response = await alice.GetPageAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("There is nothing at this address", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task UnknownPath_Anonymous_IsSentToSignInLikeAnyOtherPage()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetPageAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(("/account/dev-sign-in", "/no/such/page"), response.RedirectTarget("returnUrl"));
    }

    [Fact]
    public async Task FormPostToARoleArea_SignedInWithoutTheRole_Is403NotABadRequest()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var response = await alice.PostAsync("/programs", new FormUrlEncodedContent([]), Cancellation);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
