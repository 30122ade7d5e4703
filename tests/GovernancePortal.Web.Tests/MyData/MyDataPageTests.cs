using GovernancePortal.Requests;
using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Bunit;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Demo;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Features.MyData;
using GovernancePortal.Web.Tests.Components;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace GovernancePortal.Web.Tests.MyData;

/// <summary>
/// Stopping and re-joining on the employee's own pages, through the real host and the demo data: the first
/// render is prerendered HTML, so a GET shows what the signed-in person would see. This class has its own
/// portal; alice and bob each stop something different in it.
/// </summary>
public sealed class MyDataPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const string Alice = "alice@example.com";
    private const string Bob = "bob@example.com";

    private static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    private async Task<Actor> SignedInActorAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        var id = await connection.ExecuteScalarAsync<long?>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
        return new Actor(email, [Roles.Employee], id ?? throw new InvalidOperationException($"The demo data has no subject {email}."));
    }

    private static Task<IDocument> PageAsync(HttpClient browser, string url) => browser.GetDocumentAsync(url);

    private static IElement Card(IDocument overview, string programKey) =>
        overview.QuerySelectorAll(".mud-card").Single(card => card.QuerySelector($"a[href='/me/programs/{programKey}']") is not null);

    private static IReadOnlyList<string> Buttons(IElement element) =>
        element.QuerySelectorAll("button").Select(button => button.TextContent.Trim()).ToList();

    [Fact]
    public async Task MyData_ConsentProgramStoppedByMe_OffersRejoin_ButAnObjectionOffersNoneAndSaysWhoDecides()
    {
        var alice = await SignedInActorAsync(Alice);
        var revocations = portal.Database.Get<Revocations>();
        var withdrawals = portal.Database.Get<Withdrawals>();
        using var browser = await portal.SignedInAsAsync(Alice);
        var before = await PageAsync(browser, "/me");
        await withdrawals.WithdrawAsync(alice.SubjectId!.Value, "mci", null, alice, Cancellation);
        await withdrawals.WithdrawAsync(alice.SubjectId!.Value, "endpoint-security", null, alice, Cancellation);

        var overview = await PageAsync(browser, "/me");
        var mciPage = await PageAsync(browser, "/me/programs/mci");
        var endpointPage = await PageAsync(browser, "/me/programs/endpoint-security");

        Assert.Empty(before.QuerySelectorAll(".rejoin-program, .rejoin-category"));
        Assert.Contains("Withdraw from this program", Buttons(Card(before, "mci")));
        var mci = Card(overview, "mci");
        Assert.Contains("Re-join this program", Buttons(mci));
        Assert.DoesNotContain("Withdraw from this program", Buttons(mci));
        Assert.Empty(mci.QuerySelectorAll(".rejoin-category"));
        var endpoint = Card(overview, "endpoint-security");
        Assert.Empty(endpoint.QuerySelectorAll(".rejoin-program, .rejoin-category"));
        Assert.DoesNotContain("Object to this program", Buttons(endpoint));
        Assert.Contains(MyDataActions.ObjectionPending, endpoint.TextContent);
        Assert.DoesNotContain(MyDataActions.ObjectionPending, mci.TextContent);

        Assert.NotNull(mciPage.QuerySelector(".stopped-by-you"));
        Assert.Single(mciPage.QuerySelectorAll(".rejoin-program"));
        Assert.Empty(mciPage.QuerySelectorAll(".revoke-program, .revoke-category"));
        Assert.Empty(endpointPage.QuerySelectorAll(".rejoin-program, .rejoin-category"));
        Assert.Contains(MyDataActions.ObjectionPending, endpointPage.Body?.TextContent);
    }

    [Fact]
    public async Task MyProgram_OffersToRevokeTheProgramAndEachCategory_AndToRejoinTheCategoryIStopped()
    {
        var bob = await SignedInActorAsync(Bob);
        using var browser = await portal.SignedInAsAsync(Bob);
        var before = await PageAsync(browser, "/me/programs/mci");
        await portal.Database.Get<Withdrawals>().WithdrawAsync(bob.SubjectId!.Value, "mci", "transcriptions", bob, Cancellation);

        var detail = await PageAsync(browser, "/me/programs/mci");
        var overview = await PageAsync(browser, "/me");

        Assert.Equal("Withdraw from this program", before.QuerySelector(".revoke-program")?.TextContent.Trim());
        Assert.Equal(4, before.QuerySelectorAll(".revoke-category").Length);
        Assert.Null(before.QuerySelector(".stopped-by-you"));
        Assert.Equal("Withdraw from this program", detail.QuerySelector(".revoke-program")?.TextContent.Trim());
        var stoppedRow = Assert.Single(detail.QuerySelectorAll("tr"), row => row.QuerySelector(".rejoin-category") is not null);
        Assert.Contains("Meeting transcriptions", stoppedRow.TextContent);
        Assert.Contains("Stopped by you", stoppedRow.TextContent);
        Assert.Equal(3, detail.QuerySelectorAll(".revoke-category").Length);
        Assert.Null(detail.QuerySelector(".rejoin-program"));
        Assert.Single(Card(overview, "mci").QuerySelectorAll(".rejoin-category"));
        Assert.Equal("Object to this program", (await PageAsync(browser, "/me/programs/endpoint-security")).QuerySelector(".revoke-program")?.TextContent.Trim());
    }
}

/// <summary>
/// The re-join itself, clicked through on the rendered overview over a real database with the demo data:
/// the button, the confirmation dialog and what the library recorded.
/// </summary>
public sealed class MyDataPageRejoinTests : PortalComponentTest, IAsyncLifetime
{
    private TestDatabase? _database;

    private TestDatabase Database => _database ?? throw new InvalidOperationException("The database is created by InitializeAsync.");

    private static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Engine.Sqlite);
        await Database.Get<DemoData>().SeedAsync(Cancellation);
        Services.AddSingleton(Database.Get<MyDataSummary>());
        Services.AddSingleton(Database.Get<Revocations>());
        Services.AddSingleton(Database.Get<Withdrawals>());
        Services.AddSingleton(Database.Get<GovernancePortal.Requests.RequestDesk>());
        Services.AddSingleton(Database.Get<GovernancePortal.Grants.GrantExposure>());
        Services.AddSingleton(Database.Time);
        // As on a live circuit, where the page's actions are enabled (LivePage); set after the services,
        // because it builds the renderer.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        if (_database is not null)
            await _database.DisposeAsync();
    }

    [Fact]
    public async Task MyData_RejoinConfirmed_EndsMyWithdrawal_KeepsMyErasureRequest_AndOffersToWithdrawAgain()
    {
        var (alice, principal) = await SignInAsync("alice@example.com");
        var revocations = Database.Get<Revocations>();
        var withdrawals = Database.Get<Withdrawals>();
        var withdrawal = await withdrawals.WithdrawAsync(alice.Id, "mci", null, principal.ToActor(), Cancellation);
        var dialogs = Render<MudDialogProvider>();
        var page = Render<MyDataPage>(parameters => parameters.AddCascadingValue(Task.FromResult(new AuthenticationState(principal))));

        // The page's handler runs until the dialog closes, so the click is awaited only at the end.
        var rejoining = page.WaitForElement(".rejoin-program").ClickAsync(new());
        dialogs.WaitForElement(".mud-dialog");
        Assert.Contains("resumes for you from the moment you confirm", dialogs.Markup);
        Assert.Contains("pending erasure request, if any, is not cancelled", dialogs.Markup);
        Assert.Single(await Database.Services.ActiveRevocationsAsync(alice.Id));
        await dialogs.FindAll(".mud-dialog button").Single(button => button.TextContent.Trim() == "Re-join").ClickAsync(new());
        dialogs.WaitForAssertion(() => Assert.Contains("collected again from now on", dialogs.Markup));
        await dialogs.FindAll(".mud-dialog button").Single(button => button.TextContent.Trim() == "Close").ClickAsync(new());
        await rejoining.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);

        Assert.Empty(await Database.Services.ActiveRevocationsAsync(alice.Id));
        page.WaitForAssertion(() => Assert.Empty(page.FindAll(".rejoin-program")));
        var mci = page.FindAll(".mud-card").Single(card => card.QuerySelector("a[href='/me/programs/mci']") is not null);
        Assert.Contains("Withdraw from this program", mci.QuerySelectorAll("button").Select(button => button.TextContent.Trim()));
        var erasure = await Database.Get<GovernancePortal.Requests.RequestDesk>().GetForSubjectAsync(alice.Id, withdrawal.FollowUp.Reference, Cancellation);
        Assert.True(erasure.IsOpen);
    }

    [Fact]
    public async Task MyData_AskForACopy_FilesOneExportRequest_AndOpensItsPage()
    {
        var (alice, principal) = await SignInAsync("alice@example.com");
        var page = Render<MyDataPage>(parameters => parameters.AddCascadingValue(Task.FromResult(new AuthenticationState(principal))));
        var navigation = Services.GetRequiredService<NavigationManager>();

        await page.FindAll("button").Single(button => button.TextContent.Trim() == "Ask for a copy of all my data").ClickAsync(new());
        var first = navigation.Uri;
        await page.FindAll("button").Single(button => button.TextContent.Trim() == "Ask for a copy of all my data").ClickAsync(new());

        var request = Assert.Single(await Database.Get<GovernancePortal.Requests.RequestDesk>().ForSubjectAsync(alice.Id, Cancellation));
        Assert.Equal(GovernancePortal.Requests.RequestKind.Export, request.Kind);
        Assert.EndsWith($"/me/requests/{request.Reference}", first);
        Assert.Equal(first, navigation.Uri);
    }

    private async Task<(Subject Subject, System.Security.Claims.ClaimsPrincipal Principal)> SignInAsync(string email)
    {
        var subject = await Database.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson(GovernancePortal.Demo.DemoUser.Issuer, $"demo|{email}", email, EmailVerified: true, email), Cancellation);
        return (subject, PortalClaims.Create(subject, [Roles.Employee]));
    }
}
