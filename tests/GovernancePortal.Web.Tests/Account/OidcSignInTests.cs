using System.Net;
using AngleSharp.Html.Parser;
using GovernancePortal.Access;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// Sign-in through a real OpenID Connect provider: code flow with PKCE, the code exchanged over real
/// HTTP, the person's groups mapped to portal roles, their subject recorded.
/// </summary>
public sealed class OidcSignInTests(OidcSignInTests.Portal portal) : IClassFixture<OidcSignInTests.Portal>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OidcSignIn_PersonInTheMappedGroup_IsAPrivacyOfficerAndNothingMore()
    {
        using var browser = await portal.SignInThroughProviderAsync("olivia", "/programs");

        using var programs = await browser.GetPageAsync("/programs");
        Assert.Equal(HttpStatusCode.OK, programs.StatusCode);
        Assert.Contains("Model Capability Initiative", await programs.Content.ReadAsStringAsync(Cancellation));
        using var audit = await browser.GetPageAsync("/audit");
        Assert.Equal(HttpStatusCode.Redirect, audit.StatusCode);
        Assert.Equal("/access-denied", audit.RedirectTarget("returnUrl").Path);
        using var home = await browser.GetPageAsync("/");
        var page = new HtmlParser().ParseDocument(await home.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("Olivia Officer", page.QuerySelector(".gp-user-name")?.TextContent.Trim());
        Assert.Equal($"{Roles.Employee} · {Roles.PrivacyOfficer}", page.QuerySelector(".gp-user-roles")?.TextContent.Trim());
    }

    [Fact]
    public async Task OidcSignIn_NewPerson_IsRecordedAsASubjectWithTheProvidersIdentity()
    {
        var olivia = Portal.ProviderUsers["olivia"];
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var _ = await portal.SignInThroughProviderAsync("olivia", "/");

        var subject = await portal.Database.Services.SubjectByExternalIdAsync(olivia.Subject);
        Assert.NotNull(subject);
        Assert.Equal(olivia.Email, subject.Email);
        Assert.Equal(olivia.Name, subject.DisplayName);
        Assert.True(subject.LastSignInAt >= before, $"last sign-in {subject.LastSignInAt} is before the sign-in at {before}");
    }

    [Fact]
    public async Task OidcSignIn_PersonWithoutTheMappedGroup_IsOnlyAnEmployee()
    {
        using var browser = await portal.SignInThroughProviderAsync("noah", "/me");

        using var myData = await browser.GetPageAsync("/me");
        using var programs = await browser.GetAsync("/programs", Cancellation);

        Assert.Equal(HttpStatusCode.OK, myData.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, programs.StatusCode);
    }

    [Fact]
    public async Task OidcCallback_FromAnotherBrowser_SignsNobodyIn()
    {
        // Login CSRF: an attacker's own authorization response, replayed into a victim's browser.
        using var attacker = portal.CreateBrowser(Portal.Address);
        using var victim = portal.CreateBrowser(Portal.Address);
        using var challenge = await attacker.GetPageAsync("/");
        using var idp = portal.Provider.CreateBrowser("noah");
        using var authorization = await idp.GetAsync(challenge.Headers.Location, Cancellation);

        using var callback = await Portal.DeliverAsync(victim, authorization);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal(AuthenticationSetup.SignInFailedPath, callback.RedirectTarget("returnUrl").Path);
        using var home = await victim.GetPageAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith(portal.Provider.Authority.AbsoluteUri, home.Headers.Location?.AbsoluteUri);
    }

    /// <summary>Pages that only a role grants; a refused or unmapped person must reach none of them.</summary>
    private static readonly string[] StaffPages = ["/programs", "/requests", "/audit", "/admin/system", "/admin/jobs", "/grants/mine"];

    [Fact]
    public async Task OidcSignIn_EmailOfAnotherAccountWithPortalRoleGroups_IsRefusedAndHoldsNoSession()
    {
        var refusedBefore = await RefusedSignInsAsync("email-taken");
        var (browser, callback) = await portal.AttemptSignInAsync("mallory", "/programs");
        using var _ = browser;

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal((AuthenticationSetup.SignInFailedPath, "email-taken"), callback.RedirectTarget("reason"));
        AssertNoSessionCookie(callback);
        await AssertSignedOutAsync(browser);
        var failed = await browser.GetDocumentAsync(callback.Headers.Location!.OriginalString);
        Assert.Contains("belongs to another account", failed.MainText());
        Assert.Null(failed.QuerySelector(".gp-user-name"));
        Assert.Equal(refusedBefore + 1, await RefusedSignInsAsync("email-taken"));
    }

    /// <summary>How many refused sign-ins with this reason the audit log holds; they name nobody (the email asserted may be another's).</summary>
    private async Task<int> RefusedSignInsAsync(string reason)
    {
        await using var connection = await portal.Database.OpenAsync();
        var refused = (await connection.AuditEventsAsync()).Where(e => e.Action == GovernancePortal.Audit.AuditActions.SignInRefused).ToList();
        Assert.All(refused, e => Assert.Equal(GovernancePortal.Access.AccessEvents.Anonymous, e.Actor));
        return refused.Count(e => e.Detail == $"reason {reason}, through OpenID Connect");
    }

    [Fact]
    public async Task OidcSignIn_GroupsSpelledLikePortalRoles_GiveNoRoleWithoutTheRoleMap()
    {
        using var browser = await portal.SignInThroughProviderAsync("rafa", "/me");

        foreach (var page in StaffPages)
        {
            using var response = await browser.GetPageAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden
                    || response.StatusCode == HttpStatusCode.Redirect && response.RedirectTarget("returnUrl").Path == "/access-denied",
                $"{page} answered {(int)response.StatusCode} {response.Headers.Location}");
        }
        var home = await browser.GetDocumentAsync("/");
        Assert.Equal(Roles.Employee, home.QuerySelector(".gp-user-roles")?.TextContent.Trim());
    }

    [Theory]
    [InlineData("uma", "email-unverified")]
    [InlineData("abe", "email-unverified")]
    [InlineData("nomail", "no-email")]
    public async Task OidcSignIn_WithoutAVerifiedEmail_IsRefusedHoldsNoSessionAndClaimsNoSubject(string providerUser, string reason)
    {
        var (browser, callback) = await portal.AttemptSignInAsync(providerUser, "/me");
        using var _ = browser;

        Assert.Equal((AuthenticationSetup.SignInFailedPath, reason), callback.RedirectTarget("reason"));
        AssertNoSessionCookie(callback);
        await AssertSignedOutAsync(browser);
        Assert.Null(await portal.Database.Services.SubjectByExternalIdAsync(Portal.ProviderUsers[providerUser].Subject));
    }

    [Fact]
    public async Task OidcCallback_ProviderAnswersWithAnError_LandsOnTheFailedPageWithoutASession()
    {
        using var browser = portal.CreateBrowser(Portal.Address);
        using var challenge = await browser.GetPageAsync("/");
        var state = QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["state"].ToString();

        var refusedBefore = await RefusedSignInsAsync("provider-error");
        using var callback = await browser.GetAsync($"/signin-oidc?error=access_denied&state={Uri.EscapeDataString(state)}", Cancellation);

        Assert.Equal((AuthenticationSetup.SignInFailedPath, "provider-error"), callback.RedirectTarget("reason"));
        AssertNoSessionCookie(callback);
        await AssertSignedOutAsync(browser);
        Assert.Equal(refusedBefore + 1, await RefusedSignInsAsync("provider-error"));
    }

    [Theory]
    [MemberData(nameof(HostileReturnUrls.All), MemberType = typeof(HostileReturnUrls))]
    public async Task OidcLogin_HostileReturnUrl_ComesBackHome(string returnUrl) =>
        Assert.Equal("/", await ReturnUrlCarriedToTheProviderAsync(returnUrl));

    [Theory]
    [MemberData(nameof(HostileReturnUrls.Local), MemberType = typeof(HostileReturnUrls))]
    public async Task OidcLogin_LocalReturnUrl_ComesBackThere(string returnUrl) =>
        Assert.Equal(returnUrl, await ReturnUrlCarriedToTheProviderAsync(returnUrl));

    /// <summary>Where the portal will send the browser after the provider: the redirect URI sealed in the challenge's state.</summary>
    private async Task<string?> ReturnUrlCarriedToTheProviderAsync(string returnUrl)
    {
        using var browser = portal.CreateBrowser(Portal.Address);
        using var challenge = await browser.GetPageAsync($"/authentication/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
        Assert.StartsWith(portal.Provider.Authority.AbsoluteUri, challenge.Headers.Location?.AbsoluteUri);
        var state = QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["state"].ToString();
        var options = portal.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(OpenIdConnectDefaults.AuthenticationScheme);
        return options.StateDataFormat.Unprotect(state)?.RedirectUri;
    }

    private static void AssertNoSessionCookie(HttpResponseMessage response) =>
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gp.session=", StringComparison.Ordinal)),
            "The refused sign-in set a gp.session cookie.");

    /// <summary>Every staff page and My data send the browser to the provider: nobody is signed in.</summary>
    private async Task AssertSignedOutAsync(HttpClient browser)
    {
        foreach (var page in StaffPages.Append("/me"))
        {
            using var response = await browser.GetPageAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect
                    && response.Headers.Location!.AbsoluteUri.StartsWith(portal.Provider.Authority.AbsoluteUri, StringComparison.Ordinal),
                $"{page} answered {(int)response.StatusCode} {response.Headers.Location} to a browser whose sign-in was refused.");
        }
    }

    [Fact]
    public async Task DevSignIn_WhenAnOidcAuthorityIsSet_DoesNotExist()
    {
        using var browser = portal.CreateBrowser(Portal.Address);

        using var page = await browser.GetPageAsync(DevSignInEndpoints.Path);
        using var post = await browser.PostAsync(DevSignInEndpoints.Path,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "admin@example.com" }), Cancellation);

        var routes = portal.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText);
        Assert.DoesNotContain(DevSignInEndpoints.Path, routes);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith(portal.Provider.Authority.AbsoluteUri + OidcTestProvider.AuthorizePath.TrimStart('/'), page.Headers.Location?.AbsoluteUri);
        Assert.NotEqual(HttpStatusCode.OK, post.StatusCode);
        Assert.False(post.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("gp.session=", StringComparison.Ordinal)));
    }

    /// <summary>The portal configured for the test provider, which runs for the whole class.</summary>
    public sealed class Portal : IAsyncLifetime
    {
        // https, as in production: the correlation and nonce cookies of the code flow are Secure-only.
        public static readonly Uri Address = new("https://localhost");

        public static readonly IReadOnlyDictionary<string, ProviderUser> ProviderUsers = new Dictionary<string, ProviderUser>
        {
            ["olivia"] = new("idp-olivia-7f3a", "olivia.officer@example.com", "Olivia Officer", ["privacy-team", "staff"]),
            ["noah"] = new("idp-noah-19c2", "noah.engineer@example.com", "Noah Engineer", ["staff"]),
            // alice@example.com is a demo subject, already linked to the demo identity.
            ["mallory"] = new("idp-mallory-5e1d", "alice@example.com", "Mallory", [Roles.PrivacyOfficer, Roles.Admin, Roles.Auditor]),
            ["rafa"] = new("idp-rafa-03b7", "rafa@example.com", "Rafa Raw", [Roles.PrivacyOfficer, Roles.Admin, Roles.Auditor, Roles.DataConsumer]),
            ["uma"] = new("idp-uma-88d0", CollectedEmail, "Uma Unverified", ["staff"], EmailVerified: false),
            ["abe"] = new("idp-abe-41aa", CollectedEmail, "Abe Absent", ["staff"], EmailVerified: null),
            ["nomail"] = new("idp-nomail-7710", "", "No Mail", ["privacy-team"]),
        };

        /// <summary>An address a collector has sent records for; nobody has signed in with it yet.</summary>
        public const string CollectedEmail = "collected.person@example.com";

        private PortalFactory? _factory;
        private OidcTestProvider? _provider;

        public OidcTestProvider Provider => _provider ?? throw new InvalidOperationException("Not started.");

        public TestDatabase Database => Factory.Database;

        public IServiceProvider Services => Factory.Services;

        private PortalFactory Factory => _factory ?? throw new InvalidOperationException("Not started.");

        public async ValueTask InitializeAsync()
        {
            _provider = await OidcTestProvider.StartAsync(new Uri(Address, "/signin-oidc"), ProviderUsers, defaultUser: "olivia");
            _factory = PortalFactory.For(Engine.Sqlite, new Dictionary<string, string?>
            {
                ["Authentication:Oidc:Authority"] = _provider.Authority.AbsoluteUri,
                ["Authentication:Oidc:ClientId"] = OidcTestProvider.ClientId,
                ["Authentication:Oidc:ClientSecret"] = OidcTestProvider.ClientSecret,
                ["Authentication:Oidc:RequireHttpsMetadata"] = "false",
                ["Authentication:RoleMap:PrivacyOfficer"] = "privacy-team",
            });
            await _factory.InitializeAsync();
            await using var connection = await _factory.Database.OpenAsync();
            await Dapper.SqlMapper.ExecuteAsync(connection,
                "INSERT INTO subjects (email, display_name, created_at) VALUES (@Email, @Email, @Now)",
                new { Email = CollectedEmail, Now = DateTimeOffset.UtcNow });
        }

        /// <summary>
        /// Drives the code flow for <paramref name="providerUser"/> and returns the portal's answer at its
        /// callback with the browser, whatever the outcome (for sign-ins the portal refuses).
        /// </summary>
        public async Task<(HttpClient Browser, HttpResponseMessage Callback)> AttemptSignInAsync(string providerUser, string startUrl)
        {
            var browser = CreateBrowser(Address);
            var response = await browser.GetPageAsync(startUrl);
            while (IsRedirect(response) && IsPortal(new Uri(Address, response.Headers.Location!)))
                response = await browser.GetPageAsync(new Uri(Address, response.Headers.Location!).AbsoluteUri);
            using var idp = Provider.CreateBrowser(providerUser);
            using var authorization = await idp.GetAsync(response.Headers.Location, Cancellation);
            return (browser, await DeliverAsync(browser, authorization));
        }

        public HttpClient CreateBrowser(Uri baseAddress) => Factory.CreateBrowser(baseAddress);

        /// <summary>
        /// Drives the code flow by hand, one redirect at a time: the portal's challenge, the provider's
        /// authorization endpoint, and the authorization response back to the portal's callback, which
        /// must send the browser back to <paramref name="startUrl"/>. Returns the signed-in portal browser.
        /// </summary>
        public async Task<HttpClient> SignInThroughProviderAsync(string providerUser, string startUrl)
        {
            var browser = CreateBrowser(Address);
            var response = await browser.GetPageAsync(startUrl);
            // The challenge may pass through /authentication/login before it leaves for the provider.
            while (IsRedirect(response) && IsPortal(new Uri(Address, response.Headers.Location!)))
                response = await browser.GetPageAsync(new Uri(Address, response.Headers.Location!).AbsoluteUri);
            Assert.True(IsRedirect(response), $"The portal did not send {startUrl} to the provider: {(int)response.StatusCode}");
            Assert.StartsWith(Provider.Authority.AbsoluteUri, response.Headers.Location!.AbsoluteUri);

            using var idp = Provider.CreateBrowser(providerUser);
            using var authorization = await idp.GetAsync(response.Headers.Location, Cancellation);
            using var callback = await DeliverAsync(browser, authorization);
            Assert.True(IsRedirect(callback), $"The portal's callback answered {(int)callback.StatusCode}");
            Assert.Equal(startUrl, callback.Headers.Location?.OriginalString);
            return browser;
        }

        /// <summary>
        /// Carries the provider's authorization response to the portal as a browser would: a redirect to
        /// the callback (query response mode), or the auto-submitting form of the form_post response mode.
        /// </summary>
        public static async Task<HttpResponseMessage> DeliverAsync(HttpClient portalBrowser, HttpResponseMessage authorization)
        {
            if (IsRedirect(authorization))
                return await portalBrowser.GetAsync(authorization.Headers.Location, Cancellation);
            Assert.True(authorization.StatusCode == HttpStatusCode.OK,
                $"The provider refused the authorization request: {(int)authorization.StatusCode} {await authorization.Content.ReadAsStringAsync(Cancellation)}");
            var form = new HtmlParser().ParseDocument(await authorization.Content.ReadAsStringAsync(Cancellation)).Forms.Single();
            var fields = form.QuerySelectorAll("input[type=hidden]")
                .Select(input => KeyValuePair.Create(input.GetAttribute("name")!, input.GetAttribute("value") ?? ""));
            return await portalBrowser.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(fields), Cancellation);
        }

        private static bool IsRedirect(HttpResponseMessage response) =>
            response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther && response.Headers.Location is not null;

        private static bool IsPortal(Uri uri) => uri.Host == Address.Host && uri.Port == Address.Port;

        public async ValueTask DisposeAsync()
        {
            if (_factory is not null)
                await _factory.DisposeAsync();
            if (_provider is not null)
                await _provider.DisposeAsync();
        }
    }
}
