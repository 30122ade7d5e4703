using System.Collections.Concurrent;
using System.Net;
using GovernancePortal.Access;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Authorization;

/// <summary>
/// Every endpoint in the portal's own route table, tried by an anonymous visitor and by one demo user
/// per role. A new route fails <see cref="RouteTable_EveryEndpoint_HasAnAccessRule"/> until it has a
/// row in <see cref="Expected"/> saying who may use it; the row is then checked against the running host.
/// </summary>
public sealed class AuthorizationMatrixTests(AuthorizationMatrixTests.Portal portal) : IClassFixture<AuthorizationMatrixTests.Portal>
{
    /// <summary>
    /// Who may use each route. Methods as the route table lists them ("*" for a route that takes any
    /// method); the sample URL defaults to the pattern. Static web assets (the file routes that
    /// MapStaticAssets makes from the build manifest: css, images, _content/, _framework/) are checked
    /// as a group by <see cref="StaticWebAssets_AreServedToAnyone"/>.
    /// </summary>
    public static readonly IReadOnlyList<RouteAccess> Expected =
    [
        // Pages (Blazor routes answer GET, and POST for forms)
        new("GET POST", "/", Who.SignedIn),
        new("GET POST", "/me", Who.InRole(Roles.Employee)),
        new("GET POST", "/me/programs/{Key}", "/me/programs/mci", Who.InRole(Roles.Employee)),
        new("GET POST", "/me/access", Who.InRole(Roles.Employee)),
        new("GET POST", "/me/requests", Who.InRole(Roles.Employee)),
        new("GET POST", "/me/requests/{Reference}", "/me/requests/EXP-AAAA-AAAA", Who.InRole(Roles.Employee)),
        new("GET POST", "/requests", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/programs", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/programs/{Key}", "/programs/mci", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/grants/mine", Who.InRole(Roles.DataConsumer)),
        new("GET POST", "/grants/mine/{Id:long}", "/grants/mine/1", Who.InRole(Roles.DataConsumer)),
        new("GET POST", "/grants/mine/{Id:long}/read/{Program}", "/grants/mine/1/read/mci", Who.InRole(Roles.DataConsumer)),
        new("GET POST", "/grants/ask", Who.InRole(Roles.DataConsumer)),
        new("GET POST", "/grants", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/retention", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/pauses", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/holds", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/holds/new", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/grants/{Id:long}", "/grants/1", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/grants/exposure/{Key}", "/grants/exposure/mci", Who.InRole(Roles.PrivacyOfficer)),
        new("GET POST", "/audit", Who.InRole(Roles.Auditor)),
        new("GET POST", "/audit/export", Who.InRole(Roles.Auditor)),
        new("GET POST", "/admin/system", Who.InRole(Roles.Admin)),
        new("GET POST", "/access-denied", Who.SignedIn),
        new("GET POST", "/error", Who.Anyone),
        new("GET POST", "/not-found", Who.Anyone),
        new("GET POST", "/status/{Code:int}", "/status/404", Who.Anyone),
        new("GET POST", "/signed-out", Who.Anyone),
        new("GET POST", "/account/sign-in-failed", Who.Anyone),

        // Sign-in and sign-out
        new("GET", "/account/dev-sign-in", Who.Anyone),
        new("POST", "/account/dev-sign-in", Who.Anyone),
        new("GET", "/authentication/login", Who.Anyone),
        new("POST", "/authentication/logout", Who.Anyone),
        new("POST", "/authentication/logout-everywhere", Who.Anyone),

        // Collection API (docs/collection-api.md): collectors only, by bearer token
        new("POST", "/api/v1/collect/", "/api/v1/collect", Who.CollectorToken),
        new("GET", "/api/v1/collect/status", Who.CollectorToken),

        // The employee's copy of their data (a request they filed, found by the sign-in's subject)
        new("GET", "/me/requests/{reference}/export.zip", "/me/requests/EXP-AAAA-AAAA/export.zip", Who.InRole(Roles.Employee)),
        new("GET", "/me/requests/{reference}/receipt", "/me/requests/ERA-AAAA-AAAA/receipt", Who.InRole(Roles.Employee)),

        // Auditors' exports of the log and their signed manifests (docs/audit-log.md)
        new("GET", "/api/v1/audit/export", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/export/manifest", Who.InRole(Roles.Auditor)),

        // The auditors' checkpoints, proofs and public keys (docs/audit-log.md, "Proofs against checkpoints")
        new("GET", "/api/v1/audit/public-key", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/checkpoints", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/checkpoints/latest", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/checkpoints/{size}", "/api/v1/audit/checkpoints/1", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/proofs/inclusion", "/api/v1/audit/proofs/inclusion?seq=1", Who.InRole(Roles.Auditor)),
        new("GET", "/api/v1/audit/proofs/consistency", "/api/v1/audit/proofs/consistency?from=1", Who.InRole(Roles.Auditor)),

        // Operations
        new("*", "/health/live", Who.Anyone),
        new("*", "/health/ready", Who.Anyone),
        new("*", "/admin/jobs/{**path}", "/admin/jobs", Who.InRole(Roles.Admin)),

        // Blazor's own endpoints: the circuit hub, and the redirect helper of enhanced navigation
        new("*", "/_blazor", Who.SignedIn),
        new("*", "/_blazor/negotiate", "/_blazor/negotiate?negotiateVersion=1", Who.SignedIn) { AnyMethodSample = "POST" },
        new("*", "/_blazor/disconnect/", Who.SignedIn) { AnyMethodSample = "POST" },
        new("*", "/_blazor/initializers/", Who.SignedIn),
        new("GET", "/_framework/opaque-redirect", Who.SignedIn),

        // Development's catch-all for static files that are not in the build manifest
        new("GET HEAD", "{**path:file}", "/no-such-file.txt", Who.SignedIn),
    ];

    public static TheoryData<string, string> ExpectedRoutes =>
        new(Expected.SelectMany(route => route.EachMethod.Select(method => (method, route.Pattern))));

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public void RouteTable_EveryEndpoint_HasAnAccessRule()
    {
        var actual = portal.Routes().Where(route => !route.IsStaticWebAsset).Select(route => route.Key).ToHashSet();
        var expected = Expected.SelectMany(route => route.EachMethod.Select(method => $"{method} {route.Pattern}")).ToHashSet();

        var unlisted = actual.Except(expected).Order().ToList();
        var stale = expected.Except(actual).Order().ToList();

        Assert.True(unlisted.Count == 0 && stale.Count == 0,
            (unlisted.Count > 0 ? $"Routes without an access rule in AuthorizationMatrixTests.Expected (add who may use them): {string.Join(", ", unlisted)}. " : "")
            + (stale.Count > 0 ? $"Access rules for routes that no longer exist: {string.Join(", ", stale)}." : ""));
    }

    [Theory]
    [MemberData(nameof(ExpectedRoutes))]
    public async Task Route_EachCaller_IsAllowedOnlyAsTheTableSays(string method, string pattern)
    {
        var route = Expected.Single(entry => entry.Pattern == pattern && entry.EachMethod.Contains(method));
        var requestMethod = method == "*" ? route.AnyMethodSample : method;

        var wrong = new List<string>();
        foreach (var caller in Callers.All)
        {
            var expected = route.Who.Allows(Callers.RolesOf(caller)) ? Outcome.Allowed
                : caller == Callers.Anonymous || route.Who.OtherCredential ? Outcome.SignInRequired
                : Outcome.Forbidden;
            using var response = await SendAsync(await portal.BrowserFor(caller), requestMethod, route.SampleUrl);
            var actual = Classify(response, route.SampleUrl);
            if (actual != expected)
                wrong.Add($"{caller}: expected {expected}, got {actual} ({(int)response.StatusCode} {response.Headers.Location})");
        }

        Assert.True(wrong.Count == 0, $"{requestMethod} {route.SampleUrl} is for {route.Who}, but\n{string.Join("\n", wrong)}");
    }

    [Fact]
    public async Task StaticWebAssets_AreServedToAnyone()
    {
        var assets = portal.Routes().Where(route => route.IsStaticWebAsset).Select(route => "/" + route.Pattern.TrimStart('/')).Distinct().ToList();
        using var anonymous = portal.CreateBrowser();

        var refused = new List<string>();
        foreach (var asset in assets)
        {
            using var response = await anonymous.GetAsync(asset, Cancellation);
            if (response.StatusCode != HttpStatusCode.OK)
                refused.Add($"{asset}: {(int)response.StatusCode}");
        }

        Assert.Contains("/css/portal.css", assets);
        Assert.Contains("/_framework/blazor.web.js", assets);
        Assert.Empty(refused);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient browser, string method, string url)
    {
        if (method == "GET")
            return await browser.GetPageAsync(url);
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method == "POST")
            request.Content = new FormUrlEncodedContent([]);
        return await browser.SendAsync(request, Cancellation);
    }

    private enum Outcome
    {
        Allowed,
        SignInRequired,
        Forbidden,
        ServerError,
    }

    /// <summary>
    /// Denied and anonymous: 401, or a redirect to sign in that comes back to the same URL. Denied and
    /// signed in: 403, or a redirect to the access-denied page. Anything else got past authorization.
    /// </summary>
    private static Outcome Classify(HttpResponseMessage response, string requestedUrl)
    {
        switch (response.StatusCode)
        {
            case HttpStatusCode.Unauthorized:
                return Outcome.SignInRequired;
            case HttpStatusCode.Forbidden:
                return Outcome.Forbidden;
            case >= HttpStatusCode.InternalServerError:
                return Outcome.ServerError;
            case HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect:
                var (path, returnUrl) = response.RedirectTarget("returnUrl");
                if (path is "/account/dev-sign-in" or "/authentication/login" && returnUrl == requestedUrl)
                    return Outcome.SignInRequired;
                if (path == "/access-denied")
                    return Outcome.Forbidden;
                return Outcome.Allowed;
            default:
                return Outcome.Allowed;
        }
    }

    public sealed record PortalRoute(string Method, string Pattern, bool IsStaticWebAsset)
    {
        public string Key => $"{Method} {Pattern}";
    }

    /// <summary>The demo portal with one signed-in browser per caller, kept for the whole class.</summary>
    public sealed class Portal : PortalFactory
    {
        private readonly ConcurrentDictionary<string, Lazy<Task<HttpClient>>> _browsers = new();

        public Task<HttpClient> BrowserFor(string caller) =>
            _browsers.GetOrAdd(caller, key => new Lazy<Task<HttpClient>>(() =>
                key == Callers.Anonymous ? Task.FromResult(CreateBrowser()) : this.SignedInAsAsync(key))).Value;

        /// <summary>The route table of the running host: one entry per route pattern and method ("*" when any method matches).</summary>
        public IReadOnlyList<PortalRoute> Routes()
        {
            return Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
                .SelectMany(endpoint =>
                {
                    var pattern = endpoint.RoutePattern;
                    var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
                    var isAsset = endpoint.Metadata.GetMetadata<StaticAssetDescriptor>() is not null;
                    return (methods is null or { Count: 0 } ? ["*"] : methods)
                        .Select(method => new PortalRoute(method, pattern.RawText ?? "", isAsset));
                })
                .Distinct()
                .ToList();
        }

        public override async ValueTask DisposeAsync()
        {
            foreach (var browser in _browsers.Values.Where(lazy => lazy.IsValueCreated))
                (await browser.Value).Dispose();
            await base.DisposeAsync();
        }
    }
}
