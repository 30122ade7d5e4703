using System.Net;
using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>The auditors' log pages through the real host: opening the log is a search, and the search is logged before it is shown.</summary>
public sealed class AuditLogPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Path = "/audit";

    [Fact]
    public async Task AuditLog_Audrey_Opening_WritesOneSearchEvent_WithHerAndTheNumberOfRowsShown()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");
        var before = await SearchesAsync(portal.Database);

        var document = await audrey.GetDocumentAsync(Path);

        var rows = document.QuerySelectorAll("tbody tr").Length;
        Assert.True(rows > 0);
        var searched = Assert.Single((await SearchesAsync(portal.Database)).Skip(before.Count));
        Assert.Equal(("audrey@example.com", (long?)rows), (searched.Actor, searched.RecordCount));
        Assert.Contains("Auditor", searched.ActorRoles);
        Assert.StartsWith($"{rows} rows, seq ", searched.Detail);
        Assert.Contains($"Showing {rows} events", document.QuerySelector("[data-testid=audit-range]")?.TextContent);
        // The search is written before the rows are read back, so the page never shows the event about itself.
        Assert.DoesNotContain(document.QuerySelectorAll("tbody tr td[data-label=Seq]"), cell => cell.TextContent.Trim() == searched.Seq.ToString());
    }

    [Fact]
    public async Task AuditLog_FiltersInTheAddress_ShowOnlyMatchingEvents_AndLinkToOlderOnes()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        using var queue = await priya.GetAsync("/requests", TestContext.Current.CancellationToken);

        var document = await audrey.GetDocumentAsync($"{Path}?actor=priya@example.com&action=request.queue.viewed");

        var actions = document.QuerySelectorAll("tbody tr td[data-label=Action]").Select(cell => cell.TextContent.Trim()).ToList();
        Assert.NotEmpty(actions);
        Assert.All(actions, action => Assert.Equal("request.queue.viewed", action));
        var searched = (await SearchesAsync(portal.Database))[^1];
        Assert.EndsWith("; actor priya@example.com, action request.queue.viewed", searched.Detail);
    }

    [Fact]
    public async Task AuditLog_NoMatch_SaysSo_AndAnUnknownEmailIsNamed()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        var none = await audrey.GetDocumentAsync($"{Path}?program=no-such-program");
        var unknown = await audrey.GetDocumentAsync($"{Path}?subject=nobody@example.com");
        var bad = await audrey.GetDocumentAsync($"{Path}?from=yesterday");

        Assert.Contains("No event matches these filters", none.QuerySelector("[data-testid=audit-empty]")?.TextContent);
        Assert.Contains("nobody@example.com", unknown.QuerySelector("[data-testid=audit-empty]")?.TextContent);
        Assert.Contains("UTC date and time", bad.QuerySelector("[data-testid=audit-error]")?.TextContent);
    }

    [Fact]
    public async Task ExportPage_Audrey_SeesTheHead_AndLinksForTheWholeLogAsOneFixedRange()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");
        await using var connection = await portal.Database.OpenAsync();
        var head = (await connection.AuditEventsAsync())[^1];

        var document = await audrey.GetDocumentAsync(AuditPages.Export);

        Assert.Contains(head.Hash, document.QuerySelector("[data-testid=chain-head]")?.TextContent);
        Assert.Equal($"/api/v1/audit/export?from=1&to={head.Seq}&format=csv", document.QuerySelector("[data-testid=export-download]")?.GetAttribute("href"));
        Assert.Equal($"/api/v1/audit/export/manifest?from=1&to={head.Seq}&format=csv", document.QuerySelector("[data-testid=export-manifest]")?.GetAttribute("href"));
        Assert.Equal("/api/v1/audit/public-key", document.QuerySelector("[data-testid=public-keys]")?.GetAttribute("href"));
        // What the portal does not have yet is said, not left blank.
        Assert.Contains("has not been verified yet", document.QuerySelector("[data-testid=chain-verification]")?.TextContent);
        Assert.NotEmpty(document.QuerySelector("[data-testid=chain-checkpoint]")?.TextContent.Trim() ?? "");
    }

    [Theory]
    [InlineData(Path)]
    [InlineData(AuditPages.Export)]
    public async Task AuditPages_PrivacyOfficer_IsDenied_AndNoSearchIsLogged(string path)
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        var before = await SearchesAsync(portal.Database);

        using var plain = await priya.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        Assert.Equal(before.Count, (await SearchesAsync(portal.Database)).Count);
    }

    private static async Task<IReadOnlyList<AuditEvent>> SearchesAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.AuditSearched).ToList();
    }

    private static class AuditPages
    {
        public const string Export = "/audit/export";
    }
}
