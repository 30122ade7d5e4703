using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace GovernancePortal.Web.Tests.Infrastructure;

/// <summary>
/// The headers a browser enforces, on each kind of response the portal sends: a page, a static file,
/// an API refusal, a status page, a redirect. docs/architecture.md, "Security headers".
/// </summary>
public sealed partial class SecurityHeadersTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Page_SignedIn_HasEveryHeader_AndTheImportMapCarriesThePoliciesNonce()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var response = await alice.GetPageAsync("/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var nonce = AssertHeaders(response);
        var page = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync(Cancellation));
        var inline = page.QuerySelectorAll("script:not([src])").ToList();
        Assert.Contains(inline, script => script.GetAttribute("type") == "importmap");
        Assert.All(inline, script => Assert.Equal(nonce, script.GetAttribute("nonce")));
    }

    [Fact]
    public async Task Page_TwoRequests_GetTwoNonces()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var first = await alice.GetPageAsync("/");
        using var second = await alice.GetPageAsync("/");

        Assert.NotEqual(AssertHeaders(first), AssertHeaders(second));
    }

    [Fact]
    public async Task StaticFile_Anonymous_HasEveryHeader()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetAsync("/css/portal.css", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertHeaders(response);
    }

    [Fact]
    public async Task Api_WithoutAToken_Is401WithEveryHeader()
    {
        using var collector = portal.CreateBrowser();

        using var response = await collector.GetAsync("/api/v1/collect/status", Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AssertHeaders(response);
    }

    [Fact]
    public async Task UnknownPath_SignedIn_Is404PageWithEveryHeader()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        using var response = await alice.GetPageAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertHeaders(response);
        Assert.Contains("There is nothing at this address", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Page_Anonymous_RedirectToSignInHasEveryHeader()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetPageAsync("/me");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        AssertHeaders(response);
    }

    [Fact]
    public async Task Development_OverHttps_SendsNoStrictTransportSecurity()
    {
        using var alice = portal.CreateBrowser(new Uri("https://portal.example.test"));

        using var response = await alice.GetPageAsync("/account/dev-sign-in");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Production_OverHttps_SendsStrictTransportSecurity_AndLetsFormsReachTheIdentityProvider()
    {
        await using var production = await ProductionAsync();
        using var browser = production.CreateBrowser(new Uri("https://portal.example.test"));

        using var response = await browser.GetPageAsync("/me");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        AssertHeaders(response);
        Assert.Equal("max-age=31536000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));
        Assert.EndsWith($"form-action 'self' {new Uri(Provider).GetLeftPart(UriPartial.Authority)}", Policy(response));
    }

    [Fact]
    public async Task Production_AntiforgeryCookie_IsSecureOverHttps_AndNeverIssuedOverPlainHttp()
    {
        await using var production = await ProductionAsync();
        var antiforgery = production.Services.GetRequiredService<IAntiforgery>();
        var https = Request(production, "https");
        // Plain HTTP, as a proxy that ends TLS looks without forwarded headers.
        var http = Request(production, "http");

        antiforgery.GetAndStoreTokens(https);

        var cookie = Assert.Single(https.Response.Headers.SetCookie, c => c!.StartsWith("gp.antiforgery=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie!.Split(';', StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
        Assert.Throws<InvalidOperationException>(() => antiforgery.GetAndStoreTokens(http));
        Assert.Equal(0, http.Response.Headers.SetCookie.Count);
    }

    private static DefaultHttpContext Request(PortalFactory portal, string scheme)
    {
        var context = new DefaultHttpContext { RequestServices = portal.Services };
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString("portal.example.test");
        return context;
    }

    private const string Provider = "https://idp.example.test/tenant/";

    private static async Task<PortalFactory> ProductionAsync()
    {
        var production = PortalFactory.For(Engine.Sqlite, new Dictionary<string, string?>
        {
            ["Authentication:Oidc:Authority"] = Provider,
            ["Authentication:Oidc:ClientId"] = "governance-portal",
            ["Authentication:Oidc:ClientSecret"] = "not-used",
        }, Environments.Production,
            // The provider's metadata as if fetched: no identity provider is reachable from the tests.
            services => services.Configure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, options =>
                options.Configuration = new OpenIdConnectConfiguration { Issuer = Provider, AuthorizationEndpoint = Provider + "authorize" }));
        await production.InitializeAsync();
        return production;
    }

    /// <summary>Asserts every header and returns the policy's script nonce.</summary>
    private static string AssertHeaders(HttpResponseMessage response)
    {
        var policy = Policy(response);
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d[(d.IndexOf(' ') + 1)..]);
        Assert.Equal("'self'", directives["default-src"]);
        Assert.Equal("'none'", directives["object-src"]);
        Assert.Equal("'self'", directives["base-uri"]);
        Assert.Equal("'none'", directives["frame-ancestors"]);
        Assert.Equal("'self'", directives["connect-src"]);
        Assert.StartsWith("'self'", directives["form-action"]);
        var script = NonceSource().Match(directives["script-src"]);
        Assert.True(script.Success, $"script-src is '{directives["script-src"]}', not 'self' and a nonce only");
        Assert.DoesNotContain("unsafe", directives["script-src"]);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        var permissions = Assert.Single(response.Headers.GetValues("Permissions-Policy"));
        foreach (var feature in new[] { "camera", "microphone", "geolocation" })
            Assert.Contains($"{feature}=()", permissions);
        return script.Groups["nonce"].Value;
    }

    private static string Policy(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Content-Security-Policy"));

    [GeneratedRegex("^'self' 'nonce-(?<nonce>[A-Za-z0-9+/]{22}==)'$")]
    private static partial Regex NonceSource();
}
