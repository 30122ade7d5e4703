using System.Net;
using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>docs/audit-log.md "What is logged": sign-in, sign-out and every refused authorization leave one event, with no content.</summary>
public sealed class AccessEventsTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SignInAndSignOut_EachLeaveOneEvent()
    {
        var before = await EventsAsync("alice@example.com");
        using var browser = await portal.SignedInAsAsync("alice@example.com");
        var home = await browser.GetStringAsync("/", Cancellation);

        using var signOut = await browser.PostAsync("/authentication/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [DevSignIn.AntiforgeryField] = DevSignIn.ReadAntiforgeryToken(home, "/authentication/logout"),
        }), Cancellation);

        var events = (await EventsAsync("alice@example.com")).Skip(before.Count).ToList();
        Assert.Equal([AuditActions.SignedIn, AuditActions.SignedOut], events.Select(e => e.Action));
        Assert.Equal("through developer sign-in", events[0].Detail);
        Assert.Equal("this session ended", events[1].Detail);
        Assert.All(events, e => Assert.Contains("Employee", e.ActorRoles));
    }

    [Fact]
    public async Task AnEmployeeRefusedStaffPages_IsLoggedOncePerRefusal_WithTheRouteAndRoles_NotTheAddressAsked()
    {
        using var browser = await portal.SignedInAsAsync("bob@example.com");
        var before = (await EventsAsync("bob@example.com")).Count;

        using var page = await browser.GetPageAsync("/audit?actor=secret-search-term");
        using var program = await browser.GetPageAsync("/programs/mci");

        var refused = (await EventsAsync("bob@example.com")).Skip(before).Where(e => e.Action == AuditActions.AccessRefused).ToList();
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/access-denied", page.RedirectTarget("returnUrl").Path);
        Assert.Equal(["route /audit", "route /programs/{Key}"], refused.Select(e => e.Detail));
        Assert.All(refused, e => Assert.Equal("Employee", e.ActorRoles));
        Assert.All(refused, e => Assert.DoesNotContain("secret-search-term", e.Detail));
        Assert.All(refused, e => Assert.Null(e.SubjectId));
    }

    [Fact]
    public async Task AnAnonymousVisitor_IsSentToSignIn_AndNamesNobodyInTheLog()
    {
        await using var connection = await portal.Database.OpenAsync();
        var before = (await connection.AuditEventsAsync()).Count;
        using var browser = portal.CreateBrowser();

        using var page = await browser.GetPageAsync("/audit");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.DoesNotContain(await connection.AuditEventsAsync(before + 1), e => e.Action == AuditActions.AccessRefused);
    }

    private async Task<IReadOnlyList<AuditEvent>> EventsAsync(string actor)
    {
        await using var connection = await portal.Database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Actor == actor).ToList();
    }
}
