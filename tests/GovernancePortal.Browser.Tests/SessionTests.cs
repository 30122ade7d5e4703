using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// An open page stops working once its session ends elsewhere, and sends the person to sign in. Alone
/// in its collection, run after the others: "sign out everywhere" ends every session of a demo user,
/// also those of other tests running at the same time.
/// </summary>
[Collection(nameof(SessionEndingTests))]
public sealed class SessionTests(RunningPortal portal)
{
    [Fact]
    public Task SignOut_InOneTab_TheOtherTabsOpenPageSendsThePersonToSignIn() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Bob Chen");
            await page.GotoAsync("/me");
            await page.WaitForLiveCircuitAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("My data");

            var otherTab = await page.Context.NewPageAsync();
            await otherTab.GotoAsync("/");
            await otherTab.WaitForLiveCircuitAsync();
            await otherTab.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
            await Expect(otherTab).ToHaveURLAsync(new Regex("/signed-out$"));

            // Nothing was clicked in the first tab: its circuit finds the session ended and leaves.
            await Expect(page).ToHaveURLAsync(new Regex(@"/account/dev-sign-in\?returnUrl=%2Fme$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Developer sign-in" })).ToBeVisibleAsync();
        });

    [Fact]
    public Task SignOutEverywhere_EndsTheOpenPageOfAnotherBrowser() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Audrey Novak");
            await page.GotoAsync("/audit");
            await page.WaitForLiveCircuitAsync();

            await using var otherBrowser = await portal.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = portal.Portal.BaseAddress!.ToString(),
                ColorScheme = ColorScheme.Dark,
            });
            var other = await otherBrowser.NewPageAsync();
            await other.SignInAsync("Audrey Novak");
            await other.WaitForLiveCircuitAsync();
            await other.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
            await Expect(other).ToHaveURLAsync(new Regex("/signed-out$"));

            await Expect(page).ToHaveURLAsync(new Regex(@"/account/dev-sign-in\?returnUrl=%2Faudit$"));
        });
}

[CollectionDefinition(nameof(SessionEndingTests), DisableParallelization = true)]
public sealed class SessionEndingTests;
