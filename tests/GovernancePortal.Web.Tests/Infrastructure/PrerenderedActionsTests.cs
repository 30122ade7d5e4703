using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Infrastructure;

/// <summary>
/// Pages as the browser first receives them, prerendered before their circuit connects: a click on an
/// action there would be lost, so every action is disabled in that HTML (LivePage).
/// </summary>
public sealed class PrerenderedActionsTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("alice@example.com", "/me", "Ask for a copy of all my data")]
    [InlineData("alice@example.com", "/me/programs/mci", "Withdraw from this program")]
    [InlineData("alice@example.com", "/me/requests", "Ask for erasure of all my data")]
    [InlineData("priya@example.com", "/programs", "Register a program")]
    [InlineData("priya@example.com", "/programs/mci", "Pause…")]
    [InlineData("priya@example.com", "/requests", "Extend")]
    public async Task PrerenderedPage_EveryButtonAndField_IsDisabled(string user, string path, string action)
    {
        await BobHasAnOpenRequestAsync();
        using var browser = await portal.SignedInAsAsync(user);

        using var response = await browser.GetPageAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync(Cancellation));
        var main = page.QuerySelector(".mud-main-content")!;
        Assert.Contains(main.QuerySelectorAll("button"), button => button.TextContent.Trim() == action);
        Assert.All(main.QuerySelectorAll("button, input:not([type=hidden]), textarea, select"), control => Assert.True(IsDisabled(control),
            $"{control.OuterHtml[..Math.Min(200, control.OuterHtml.Length)]} is enabled before the page is live"));
    }

    /// <summary>
    /// A field's adornment (a date picker's calendar button) is part of the field: MudBlazor greys the
    /// whole field and ignores the button's clicks, without marking the button itself.
    /// </summary>
    private static bool IsDisabled(IElement control) =>
        control.HasAttribute("disabled")
        || (control.ClassList.Contains("mud-input-adornment-icon-button") && control.Closest(".mud-input")?.ClassList.Contains("mud-disabled") == true);

    /// <summary>The request queue shows actions only on open requests.</summary>
    private async Task BobHasAnOpenRequestAsync()
    {
        await using var connection = await portal.Database.OpenAsync();
        var bob = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'bob@example.com'");
        await portal.Database.Get<RequestDesk>().SubmitAsync(bob, RequestKind.Export, null, null,
            new Actor("bob@example.com", [Roles.Employee], bob), Cancellation);
    }
}
