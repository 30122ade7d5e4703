using System.Net;
using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Infrastructure;

public sealed class HealthEndpointsTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    public static TheoryData<Engine> Engines => TestDatabase.Engines;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_Anonymous_IsHealthy(string path)
    {
        using var client = portal.CreateBrowser();

        using var response = await client.GetAsync(path, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Ready_ASchemaFileNotApplied_Is503WhileLiveStays200()
    {
        await using var portalWithPendingSchema = PortalFactory.For(Engine.Sqlite);
        await portalWithPendingSchema.InitializeAsync();
        using var client = portalWithPendingSchema.CreateBrowser();
        using (var before = await client.GetAsync("/health/ready", Cancellation))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await using (var connection = await portalWithPendingSchema.Database.OpenAsync())
            await connection.ExecuteAsync($"DELETE FROM {SchemaMigrator.HistoryTable} WHERE version = (SELECT max(version) FROM {SchemaMigrator.HistoryTable})");

        using var ready = await client.GetAsync("/health/ready", Cancellation);
        using var live = await client.GetAsync("/health/live", Cancellation);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Portal_OnEachEngine_IsReadyAndSignsInADemoUser(Engine engine)
    {
        await using var onEngine = PortalFactory.For(engine);
        await onEngine.InitializeAsync();
        using var anonymous = onEngine.CreateBrowser();

        using var ready = await anonymous.GetAsync("/health/ready", Cancellation);
        using var alice = await onEngine.SignedInAsAsync("alice@example.com");
        using var home = await alice.GetPageAsync("/");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("Welcome, Alice Martin", await home.Content.ReadAsStringAsync(Cancellation));
    }
}
