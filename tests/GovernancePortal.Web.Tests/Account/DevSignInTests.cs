using System.Net;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace GovernancePortal.Web.Tests.Account;

public sealed class DevSignInTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Alice = "alice@example.com";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Page_Anonymous_RedirectsToDevSignInWithReturnUrl()
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetPageAsync("/programs");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal((DevSignInEndpoints.Path, "/programs"), response.RedirectTarget("returnUrl"));
    }

    [Fact]
    public async Task DevSignIn_AsAlice_HomeGreetsHerByName()
    {
        using var browser = await portal.SignedInAsAsync(Alice);

        using var home = await browser.GetPageAsync("/");

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("Welcome, Alice Martin", await home.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task DevSignIn_AfterRedirectFromAPage_ReturnsToThatPage()
    {
        using var browser = portal.CreateBrowser();
        using var challenge = await browser.GetPageAsync("/me");
        var signInPage = await browser.GetStringAsync(challenge.Headers.Location, Cancellation);
        var returnUrl = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(signInPage)
            .QuerySelector("input[name=returnUrl]")?.GetAttribute("value");

        using var signIn = await DevSignIn.SubmitAsync(browser, Alice, returnUrl);

        Assert.Equal("/me", returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/me", signIn.Headers.Location?.OriginalString);
        using var myData = await browser.GetPageAsync("/me");
        Assert.Equal(HttpStatusCode.OK, myData.StatusCode);
    }

    [Fact]
    public async Task DevSignIn_WithoutAntiforgeryToken_IsRejectedAndSignsNobodyIn()
    {
        using var browser = portal.CreateBrowser();
        await browser.GetStringAsync(DevSignInEndpoints.Path, Cancellation);

        using var response = await browser.PostAsync(DevSignInEndpoints.Path,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = Alice }), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gp.session=", StringComparison.Ordinal)));
        await AssertSignedOutAsync(browser);
    }

    [Fact]
    public async Task DevSignIn_UnknownUser_SignsNobodyInAndSaysSo()
    {
        using var browser = portal.CreateBrowser();

        using var response = await DevSignIn.SubmitAsync(browser, "mallory@example.com");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal((DevSignInEndpoints.Path, "unknown-user"), response.RedirectTarget("error"));
        var page = await browser.GetStringAsync(response.Headers.Location, Cancellation);
        Assert.Contains("Choose one of the demo users", page);
        await AssertSignedOutAsync(browser);
    }

    [Theory]
    [MemberData(nameof(HostileReturnUrls.All), MemberType = typeof(HostileReturnUrls))]
    public async Task DevSignIn_HostileReturnUrl_GoesHome(string returnUrl)
    {
        using var browser = portal.CreateBrowser();

        using var response = await DevSignIn.SubmitAsync(browser, Alice, returnUrl);

        // A NUL in a form field is refused by the form reader before the endpoint: no sign-in, no redirect.
        if (returnUrl.Contains('\0'))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return;
        }
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [MemberData(nameof(HostileReturnUrls.Local), MemberType = typeof(HostileReturnUrls))]
    public async Task DevSignIn_LocalReturnUrl_IsFollowed(string returnUrl)
    {
        using var browser = portal.CreateBrowser();

        using var response = await DevSignIn.SubmitAsync(browser, Alice, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(returnUrl, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/programs?tab=categories", "/programs?tab=categories")]
    public async Task DevSignIn_ReturnUrl_OnlyALocalPathIsFollowed(string returnUrl, string expectedLocation)
    {
        using var browser = portal.CreateBrowser();

        using var response = await DevSignIn.SubmitAsync(browser, Alice, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expectedLocation, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("https://evil.example/steal", "/")]
    [InlineData("//evil.example/steal", "/")]
    [InlineData("/me", "/me")]
    public async Task Login_ReturnUrl_OnlyALocalPathIsCarriedToSignIn(string returnUrl, string expectedReturnUrl)
    {
        using var browser = portal.CreateBrowser();

        using var response = await browser.GetPageAsync($"/authentication/login?returnUrl={Uri.EscapeDataString(returnUrl)}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal((DevSignInEndpoints.Path, expectedReturnUrl), response.RedirectTarget("returnUrl"));
    }

    [Fact]
    public async Task Logout_WithTheSignOutForm_EndsTheSession()
    {
        using var browser = await portal.SignedInAsAsync(Alice);
        var home = await browser.GetStringAsync("/", Cancellation);
        var token = DevSignIn.ReadAntiforgeryToken(home, "/authentication/logout");

        using var response = await browser.PostAsync("/authentication/logout",
            new FormUrlEncodedContent(new Dictionary<string, string> { [DevSignIn.AntiforgeryField] = token }), Cancellation);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signed-out", response.Headers.Location?.OriginalString);
        await AssertSignedOutAsync(browser);
    }

    [Fact]
    public async Task Logout_WithoutAntiforgeryToken_IsRejectedAndKeepsTheSession()
    {
        using var browser = await portal.SignedInAsAsync(Alice);

        using var response = await browser.PostAsync("/authentication/logout", new FormUrlEncodedContent([]), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var home = await browser.GetPageAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Fact]
    public async Task DevSignIn_InProduction_DoesNotExist()
    {
        const string provider = "https://idp.example.test/";
        await using var production = PortalFactory.For(Engine.Sqlite, new Dictionary<string, string?>
        {
            ["Authentication:Oidc:Authority"] = provider,
            ["Authentication:Oidc:ClientId"] = "governance-portal",
            ["Authentication:Oidc:ClientSecret"] = "not-used",
        }, Environments.Production,
            // The provider's metadata as if fetched: no identity provider is reachable from the tests.
            services => services.Configure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, options =>
                options.Configuration = new OpenIdConnectConfiguration { Issuer = provider, AuthorizationEndpoint = provider + "authorize" }));
        await production.InitializeAsync();
        using var browser = production.CreateBrowser();

        using var page = await browser.GetPageAsync(DevSignInEndpoints.Path);
        using var post = await browser.PostAsync(DevSignInEndpoints.Path,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "admin@example.com" }), Cancellation);

        var routes = production.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText);
        Assert.DoesNotContain(DevSignInEndpoints.Path, routes);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith(provider + "authorize?", page.Headers.Location?.AbsoluteUri);
        Assert.NotEqual(HttpStatusCode.OK, post.StatusCode);
        Assert.False(post.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gp.session=", StringComparison.Ordinal)));
    }

    private static async Task AssertSignedOutAsync(HttpClient browser)
    {
        using var home = await browser.GetPageAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal(DevSignInEndpoints.Path, home.RedirectTarget("returnUrl").Path);
    }
}
