using System.Net;
using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>The auditors' log page through the real host: opening it is a search, and the search is logged before it is shown.</summary>
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
        Assert.StartsWith($"rows 1-{rows} of ", searched.Detail);
        Assert.Contains($"Showing 1–{rows} of", document.QuerySelector("[data-testid=audit-range]")?.TextContent);
        // The search is written before the rows are read back, so the page never shows the event about itself.
        Assert.DoesNotContain(document.QuerySelectorAll("tbody tr td[data-label=Seq]"), cell => cell.TextContent.Trim() == searched.Seq.ToString());
    }

    [Fact]
    public async Task AuditLog_PrivacyOfficer_IsDenied_AndNoSearchIsLogged()
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        var before = await SearchesAsync(portal.Database);

        using var plain = await priya.GetAsync(Path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        Assert.Equal(before.Count, (await SearchesAsync(portal.Database)).Count);
    }

    private static async Task<IReadOnlyList<AuditEvent>> SearchesAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.AuditSearched).ToList();
    }
}
