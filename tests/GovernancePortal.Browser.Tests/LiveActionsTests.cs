using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>Actions on a page that is not live yet are disabled, and work as soon as the circuit connects.</summary>
public sealed class LiveActionsTests(RunningPortal portal)
{
    [Fact]
    public Task MyRequests_BeforeTheCircuit_AskForACopyIsDisabled_ThenEnabledAndFilesTheRequest() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Alice Martin");
            await page.WaitForLiveCircuitAsync();
            // Holding back Blazor's script keeps the next page exactly as prerendered, for as long as the
            // test needs to look at it.
            var release = new TaskCompletionSource();
            await page.RouteAsync(new Regex(@"/_framework/blazor\.web(\.[a-z0-9]+)?\.js$"), async route =>
            {
                await release.Task;
                await route.ContinueAsync();
            });

            // Only until the response arrives: the held script is parser-blocking, so the document does not
            // finish loading before it is released.
            await page.GotoAsync("/me/requests", new() { WaitUntil = WaitUntilState.Commit });
            var ask = page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" });
            await Expect(ask).ToBeDisabledAsync();
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Ask for erasure of all my data" })).ToBeDisabledAsync();

            release.SetResult();
            await Expect(ask).ToBeEnabledAsync();
            await ask.ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Send the request" }).ClickAsync();

            await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
        });
}
