using System.Net;
using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>A refused authorization is in the log: who, their roles, the method and the route's pattern, and nothing of what was asked for.</summary>
public sealed class RefusedAuthorizationLogTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<IReadOnlyList<AuditEvent>> RefusalsAsync()
    {
        await using var connection = await portal.Database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.AuthorizationRefused).ToList();
    }

    [Fact]
    public async Task SignedInWithoutTheRole_IsRefused_AndTheRefusalIsLoggedWithRouteAndRolesOnly()
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        var before = (await RefusalsAsync()).Count;

        using var page = await priya.GetAsync("/audit?actor=secret-search", Cancellation);
        using var api = await priya.GetAsync("/api/v1/audit/checkpoints/12345", Cancellation);

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (page.StatusCode, api.StatusCode));
        var logged = (await RefusalsAsync()).Skip(before).ToList();
        Assert.Equal(["GET /audit", "GET /api/v1/audit/checkpoints/{size}"], logged.Select(e => e.Detail));
        Assert.All(logged, e =>
        {
            Assert.Equal(("priya@example.com", "Employee,PrivacyOfficer"), (e.Actor, e.ActorRoles));
            Assert.Null(e.SubjectId);
            Assert.DoesNotContain("secret", e.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("12345", e.Detail, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Anonymous_IsRefused_WithoutAnEvent()
    {
        using var anonymous = portal.CreateBrowser();
        var before = (await RefusalsAsync()).Count;

        using var response = await anonymous.GetAsync("/api/v1/audit/checkpoints", Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, (await RefusalsAsync()).Count);
    }

    [Fact]
    public async Task Allowed_Request_LogsNoRefusal()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");
        var before = (await RefusalsAsync()).Count;

        using var response = await audrey.GetAsync("/api/v1/audit/checkpoints", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, (await RefusalsAsync()).Count);
    }
}
