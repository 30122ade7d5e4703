using System.Net;
using GovernancePortal.Sessions;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// Sessions live in the database and the cookie only names one: a sign-out ends it for every copy of
/// the cookie, "sign out everywhere" ends every session of the person, and a session ends at its
/// absolute lifetime however active it is.
/// </summary>
public sealed class SessionTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cookie_CopiedBeforeSignOut_IsRefusedAfterIt()
    {
        var copied = await SignInAndCopyCookieAsync(portal, "bob@example.com");
        using (var before = await GetWithCookieAsync(portal, "/me", copied))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        using var browser = portal.CreateBrowser();
        browser.DefaultRequestHeaders.Add("Cookie", copied);
        var home = await browser.GetStringAsync("/", Cancellation);

        using var signOut = await browser.PostAsync("/authentication/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [DevSignIn.AntiforgeryField] = DevSignIn.ReadAntiforgeryToken(home, "/authentication/logout"),
        }), Cancellation);

        Assert.Equal("/signed-out", signOut.Headers.Location?.OriginalString);
        using var replayed = await GetWithCookieAsync(portal, "/me", copied);
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.Equal(DevSignInEndpoints.Path, replayed.RedirectTarget("returnUrl").Path);
    }

    [Fact]
    public async Task Cookie_CarriesOnlyASessionKey_NotThePrincipalOrTokens()
    {
        var copied = await SignInAndCopyCookieAsync(portal, "bob@example.com");

        // A ticket with the claims would be far longer; the key is 43 characters before data protection.
        Assert.True(copied.Length < 600, $"The session cookie is {copied.Length} characters long.");
        await using var connection = await portal.Database.OpenAsync();
        var sessions = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "SELECT count(*) FROM sessions s JOIN subjects p ON p.id = s.subject_id WHERE p.email = 'bob@example.com' AND s.ended_at IS NULL");
        Assert.True(sessions >= 1);
    }

    [Fact]
    public async Task SignOutEverywhere_EndsTheSessionsOfOtherBrowsers()
    {
        using var laptop = await portal.SignedInAsAsync("omar@example.com");
        using var phone = await portal.SignedInAsAsync("omar@example.com");
        using var bystander = await portal.SignedInAsAsync("priya@example.com");
        var home = await laptop.GetStringAsync("/", Cancellation);

        using var response = await laptop.PostAsync("/authentication/logout-everywhere", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [DevSignIn.AntiforgeryField] = DevSignIn.ReadAntiforgeryToken(home, "/authentication/logout-everywhere"),
        }), Cancellation);

        Assert.Equal("/signed-out", response.Headers.Location?.OriginalString);
        foreach (var browser in new[] { laptop, phone })
        {
            using var page = await browser.GetPageAsync("/me");
            Assert.Equal(DevSignInEndpoints.Path, page.RedirectTarget("returnUrl").Path);
        }
        using var other = await bystander.GetPageAsync("/me");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task SignOutEverywhere_WithoutAntiforgeryToken_IsRejectedAndEndsNothing()
    {
        using var browser = await portal.SignedInAsAsync("omar@example.com");

        using var response = await browser.PostAsync("/authentication/logout-everywhere", new FormUrlEncodedContent([]), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var page = await browser.GetPageAsync("/me");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Session_PastItsAbsoluteLifetime_EndsHoweverActive()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var clocked = PortalFactory.For(Engine.Sqlite, new Dictionary<string, string?>
        {
            ["Authentication:Session:AbsoluteLifetime"] = "02:00:00",
            ["Authentication:Session:IdleTimeout"] = "01:00:00",
        }, testServices: services => services.AddSingleton<TimeProvider>(clock));
        await clocked.InitializeAsync();
        using var browser = await clocked.SignedInAsAsync("bob@example.com");

        // Active every 50 minutes, so the idle timeout never ends it; the absolute lifetime does.
        for (var step = 0; step < 2; step++)
        {
            clock.Advance(TimeSpan.FromMinutes(50));
            using var page = await browser.GetPageAsync("/me");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }
        clock.Advance(TimeSpan.FromMinutes(21));

        using var late = await browser.GetPageAsync("/me");
        Assert.Equal(DevSignInEndpoints.Path, late.RedirectTarget("returnUrl").Path);
    }

    [Fact]
    public async Task SessionStore_ForeignPrincipal_IsNeverStored()
    {
        var store = portal.Services.GetRequiredService<DatabaseTicketStore>();
        var idpIdentity = new System.Security.Claims.ClaimsIdentity(
            [new("sub", "idp-1"), new("groups", "Admin"), new(PortalClaims.SubjectId, "1")], "AuthenticationTypes.Federation", "name", "groups");
        var ticket = new Microsoft.AspNetCore.Authentication.AuthenticationTicket(new(idpIdentity), "Cookies");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.StoreAsync(ticket));
    }

    /// <summary>Signs in without a cookie jar and returns the <c>gp.session</c> cookie as a Cookie header value.</summary>
    private static async Task<string> SignInAndCopyCookieAsync(PortalFactory factory, string email)
    {
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var page = await client.GetAsync(DevSignInEndpoints.Path, Cancellation);
        var antiforgery = Cookies(page).Single(cookie => cookie.StartsWith("gp.antiforgery=", StringComparison.Ordinal));
        using var post = new HttpRequestMessage(HttpMethod.Post, DevSignInEndpoints.Path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["user"] = email,
                [DevSignIn.AntiforgeryField] = DevSignIn.ReadAntiforgeryToken(await page.Content.ReadAsStringAsync(Cancellation)),
            }),
        };
        post.Headers.Add("Cookie", antiforgery);
        using var signedIn = await client.SendAsync(post, Cancellation);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return Cookies(signedIn).Single(cookie => cookie.StartsWith("gp.session=", StringComparison.Ordinal));
    }

    private static IEnumerable<string> Cookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Select(value => value.Split(';')[0]) : [];

    private static async Task<HttpResponseMessage> GetWithCookieAsync(PortalFactory factory, string path, string cookie)
    {
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        request.Headers.Accept.ParseAdd("text/html");
        return await client.SendAsync(request, Cancellation);
    }
}
