using System.Net;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.MyData;

/// <summary>
/// "Who accessed my data" through the real host: the first render is prerendered HTML, so a GET shows
/// what the signed-in person would see. Each test writes events with markers of its own.
/// </summary>
public sealed class AccessHistoryPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Path = "/me/access";
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";
    private const string Priya = "priya@example.com";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private async Task<long> SubjectIdAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        var id = await connection.ExecuteScalarAsync<long?>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
        return id ?? throw new InvalidOperationException($"The demo data has no subject {email}.");
    }

    /// <summary>Priya reads <paramref name="email"/>'s records; the marker is the purpose, which the page shows.</summary>
    private async Task<string> PriyaReadsAsync(string email)
    {
        var marker = $"purpose-{Guid.NewGuid():N}";
        var subjectId = await SubjectIdAsync(email);
        await using var scope = await portal.Database.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
        await portal.Database.Get<AuditLog>().AppendAsync(scope, new AuditEntry(Priya, [Roles.PrivacyOfficer, Roles.Employee],
            "records.read", subjectId, "mci", marker, "categories: transcriptions; grant 4242", 17));
        await scope.CommitAsync();
        return marker;
    }

    private static async Task<string> PageAsync(HttpClient browser, string url = Path)
    {
        using var response = await browser.GetPageAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Cancellation);
    }

    [Fact]
    public async Task AccessHistory_Alice_SeesPriyasReadOfHerDataButNotOfBobs()
    {
        var aboutAlice = await PriyaReadsAsync(Alice);
        var aboutBob = await PriyaReadsAsync(Bob);
        using var alice = await portal.SignedInAsAsync(Alice);

        var html = await PageAsync(alice);

        Assert.Contains("Everyone who looked at or changed your data, and why", html);
        Assert.Contains(aboutAlice, html);
        Assert.Contains(Priya, html);
        Assert.Contains("Read your records", html);
        Assert.Contains("Grant #4242", html);
        Assert.Contains("transcriptions", html);
        Assert.DoesNotContain(aboutBob, html);
    }

    [Fact]
    public async Task AccessHistory_Bob_SeesHisOwnEventsAndNotAlices()
    {
        var aboutAlice = await PriyaReadsAsync(Alice);
        var aboutBob = await PriyaReadsAsync(Bob);
        using var bob = await portal.SignedInAsAsync(Bob);

        var html = await PageAsync(bob);

        Assert.Contains(aboutBob, html);
        Assert.DoesNotContain(aboutAlice, html);
    }

    [Fact]
    public async Task AccessHistory_BobWithAlicesSubjectIdInTheQueryString_StillSeesOnlyHisOwn()
    {
        var aboutAlice = await PriyaReadsAsync(Alice);
        var aboutBob = await PriyaReadsAsync(Bob);
        var aliceId = await SubjectIdAsync(Alice);
        using var bob = await portal.SignedInAsAsync(Bob);

        foreach (var query in new[] { $"?subject={aliceId}", $"?subjectId={aliceId}", $"?{PortalClaims.SubjectId}={aliceId}", $"?email={Alice}" })
        {
            var html = await PageAsync(bob, Path + query);

            Assert.Contains(aboutBob, html);
            Assert.DoesNotContain(aboutAlice, html);
        }
    }

    [Fact]
    public async Task AccessHistory_MyOwnActions_AreNotListed()
    {
        var marker = $"own-{Guid.NewGuid():N}";
        var adminId = await SubjectIdAsync("admin@example.com");
        await using (var scope = await portal.Database.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await portal.Database.Get<AuditLog>().AppendAsync(scope,
                new AuditEntry("admin@example.com", [Roles.Admin, Roles.Employee], "subject.revoked", adminId, "mci", Detail: marker));
            await scope.CommitAsync();
        }
        using var admin = await portal.SignedInAsAsync("admin@example.com");

        var html = await PageAsync(admin);

        Assert.DoesNotContain(marker, html);
        Assert.Contains("Nobody but you has looked at your data.", html);
    }

    [Fact]
    public async Task AccessHistory_Anonymous_IsSentToSignInAndBack()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetPageAsync(Path + "?subject=1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal((DevSignInEndpoints.Path, Path + "?subject=1"), response.RedirectTarget("returnUrl"));
    }
}
