using System.Net;
using GovernancePortal.Retention;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Retention;

/// <summary>The privacy officers' retention page through the real host and the demo data (docs/demo-data.md).</summary>
public sealed class RetentionPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Path = "/retention";

    [Fact]
    public async Task Retention_Priya_SeesEveryCategorysCompliance_AndTheRunsNewestFirst()
    {
        var first = await portal.Database.Get<RetentionSweep>().RunAsync(TestContext.Current.CancellationToken);
        var second = await portal.Database.Get<RetentionSweep>().RunAsync(TestContext.Current.CancellationToken);
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var page = await priya.GetDocumentAsync(Path);

        Assert.Single(page.QuerySelectorAll("h1"));
        var compliance = page.QuerySelectorAll("[data-testid=retention-compliance] tbody tr");
        Assert.Equal(5, compliance.Length);
        Assert.Contains(compliance, row => row.Children[1].TextContent.Contains("Keystrokes", StringComparison.OrdinalIgnoreCase)
            && row.Children[2].TextContent.Trim() == "90 days" && row.Children[4].TextContent.Trim() == "none");
        var runs = page.QuerySelectorAll("[data-testid=retention-runs] tbody tr").Select(row => row.Children[0].TextContent.Trim()).ToList();
        Assert.Equal([second.RunId.ToString(), first.RunId.ToString()], runs.Take(2));
    }

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("dana@example.com")]
    [InlineData("audrey@example.com")]
    public async Task Retention_SomeoneNotAPrivacyOfficer_IsForbidden(string email)
    {
        using var client = await portal.SignedInAsAsync(email);

        using var response = await client.GetAsync(Path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
