using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Programs;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Programs;

/// <summary>
/// The program page knows the officer who paused by their subject, as the rule does: a pause recorded
/// under an email the officer no longer has is still theirs, and only another officer is offered Resume.
/// </summary>
public sealed class ProgramPagePauseTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ProgramPage_APauseByPriyaUnderHerFormerEmail_IsHers_AndOnlyOmarIsOfferedResume()
    {
        await using (var connection = await portal.Database.OpenAsync())
        {
            var priyaId = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'priya@example.com'");
            var formerly = new Actor("priya.raman@old.example.com", [Roles.PrivacyOfficer, Roles.Employee], priyaId);
            await portal.Database.Get<PauseSwitch>().PauseAsync("endpoint-security", [], "Reviewing the scope", formerly, Cancellation);
        }
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        using var omar = await portal.SignedInAsAsync("omar@example.com");

        var forPriya = (await priya.GetDocumentAsync("/programs/endpoint-security")).Body!.TextContent;
        var forOmar = (await omar.GetDocumentAsync("/programs/endpoint-security")).Body!.TextContent;

        Assert.Contains("You paused it, so another privacy officer must resume it.", forPriya);
        Assert.DoesNotContain("Resume…", forPriya);
        Assert.Contains("Resume…", forOmar);
        Assert.DoesNotContain("You paused it", forOmar);
    }
}
