using System.Net;
using System.Security.Cryptography;
using AngleSharp.Html.Parser;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// The portal (Development, SQLite, demo data) signing people in through a <see cref="CertifiedProvider"/>
/// of its own, for one test class. The portal runs in memory; the code exchange and the userinfo call
/// go to the provider over real HTTP, and the tests carry the browser between the two by hand.
/// </summary>
public abstract class CertifiedProviderPortal(bool claimsInIdToken, IReadOnlyDictionary<string, string?>? settings = null) : IAsyncLifetime
{
    /// <summary>
    /// Where the browser reaches the portal. Nothing listens here (the portal is in memory), so this
    /// only has to match the client's registration; https because the code flow's correlation and
    /// nonce cookies are Secure-only and a CookieContainer, unlike a browser on loopback, keeps them
    /// only for https.
    /// </summary>
    public static readonly Uri Address = new("https://127.0.0.1:5443/");

    public const string ClientId = "governance-portal";
    public const string SessionCookie = "gp.session";

    /// <summary>The portal's Authentication:RoleMap in these tests: the provider's group for privacy officers.</summary>
    public const string OfficersGroup = "gp-officers";

    private readonly string _clientSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
    private CertifiedProvider? _provider;
    private PortalFactory? _factory;
    private Exception? _problem;

    public CertifiedProvider Provider => _provider ?? throw Problem();

    public PortalFactory Factory => _factory ?? throw Problem();

    public TestDatabase Database => Factory.Database;

    public async ValueTask InitializeAsync()
    {
        try
        {
            _provider = await CertifiedProvider.StartAsync(ClientId, _clientSecret,
                new Uri(Address, "/signin-oidc"), new Uri(Address, "/signout-callback-oidc"), claimsInIdToken);
        }
        catch (InvalidOperationException problem)
        {
            // Kept for the tests to throw, so that they are skipped (or fail in CI) with the reason.
            _problem = problem;
            return;
        }
        var configuration = new Dictionary<string, string?>
        {
            ["Authentication:Oidc:Authority"] = _provider.Issuer,
            ["Authentication:Oidc:ClientId"] = ClientId,
            ["Authentication:Oidc:ClientSecret"] = _clientSecret,
            ["Authentication:Oidc:RequireHttpsMetadata"] = "false",
            ["Authentication:Oidc:Scopes"] = "groups",
            ["Authentication:Oidc:RoleClaimType"] = "groups",
            ["Authentication:RoleMap:PrivacyOfficer"] = OfficersGroup,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        _factory = PortalFactory.For(Engine.Sqlite, configuration);
        await _factory.InitializeAsync();
    }

    // A new exception each time, with the message that makes xunit skip (outside CI) kept first.
    private InvalidOperationException Problem() => new(_problem?.Message ?? "The fixture is not initialized.", _problem);

    /// <summary>A browser for the portal: keeps its cookies where the test can look at them, follows no redirect.</summary>
    public PortalBrowser CreateBrowser()
    {
        var cookies = new CookieContainer();
        return new PortalBrowser(Factory.CreateDefaultClient(Address, new CookieContainerHandler(cookies)), cookies);
    }

    /// <summary>
    /// The whole sign-in as a browser makes it: <paramref name="startUrl"/> at the portal, the challenge to the
    /// provider, its login page as <paramref name="account"/> (null: the person cancels there), and the
    /// authorization response carried back to the portal's callback. Returns the browser and the callback's answer.
    /// </summary>
    public async Task<SignIn> SignInAsync(string? account, string startUrl)
    {
        var browser = CreateBrowser();
        var response = await browser.Client.GetPageAsync(startUrl);
        // The challenge may pass through /authentication/login before it leaves for the provider.
        for (var hops = 0; CertifiedProvider.IsRedirect(response) && !Provider.Serves(response.Headers.Location!) && hops < 5; hops++)
        {
            var next = response.Headers.Location!.OriginalString;
            response.Dispose();
            response = await browser.Client.GetPageAsync(next);
        }
        Assert.True(CertifiedProvider.IsRedirect(response) && Provider.Serves(response.Headers.Location!),
            $"The portal did not send {startUrl} to the provider: {(int)response.StatusCode} {response.Headers.Location}");

        var idp = Provider.CreateBrowser();
        using var authorization = await Provider.AuthorizeAsync(idp, response.Headers.Location!, account);
        response.Dispose();
        var callback = await DeliverAsync(browser, authorization);
        return new SignIn(browser, idp, callback);
    }

    /// <summary>
    /// Carries the provider's authorization response to the portal: a redirect (query response mode) or the
    /// self-submitting form of form_post, which ASP.NET Core asks for; oidc-provider answers an error with 400.
    /// </summary>
    private async Task<HttpResponseMessage> DeliverAsync(PortalBrowser browser, HttpResponseMessage authorization)
    {
        if (CertifiedProvider.IsRedirect(authorization))
            return await browser.Client.GetAsync(authorization.Headers.Location, Cancellation);
        var html = await authorization.Content.ReadAsStringAsync(Cancellation);
        var form = new HtmlParser().ParseDocument(html).Forms.FirstOrDefault();
        Assert.True(form?.GetAttribute("action") is { } action && new Uri(action).Authority == Address.Authority,
            $"The provider did not answer with an authorization response for the portal: {(int)authorization.StatusCode} {html}{Environment.NewLine}{Provider.Transcript}");
        var fields = form.QuerySelectorAll("input[type=hidden]")
            .Select(input => KeyValuePair.Create(input.GetAttribute("name")!, input.GetAttribute("value") ?? ""));
        return await browser.Client.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(fields), Cancellation);
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null)
            await _factory.DisposeAsync();
        if (_provider is not null)
            await _provider.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A portal browser and its cookie jar.</summary>
public sealed record PortalBrowser(HttpClient Client, CookieContainer Cookies) : IDisposable
{
    /// <summary>The portal's session cookie as the browser would send it (a chunked cookie's first part included), or null.</summary>
    public Cookie? Session =>
        Cookies.GetCookies(CertifiedProviderPortal.Address).FirstOrDefault(cookie => cookie.Name.StartsWith(CertifiedProviderPortal.SessionCookie, StringComparison.Ordinal));

    public void Dispose() => Client.Dispose();
}

/// <summary>A finished sign-in: the portal browser, the same browser's side at the provider, and the portal callback's answer.</summary>
public sealed record SignIn(PortalBrowser Browser, HttpClient ProviderBrowser, HttpResponseMessage Callback) : IDisposable
{
    public void Dispose()
    {
        Callback.Dispose();
        ProviderBrowser.Dispose();
        Browser.Dispose();
    }
}
