using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests.Accessibility;

/// <summary>
/// The journeys of issue 14 with the keyboard alone: Tab to reach a control, Enter or Space to use it,
/// Escape to close a dialog. Nothing is clicked and nothing is focused by script; signing in too is done
/// from the keyboard.
/// </summary>
public sealed class KeyboardTests(RunningPortal portal)
{
    [Fact]
    public Task Alice_WithTheKeyboardOnly_StopsACategory_AsksForACopy_AndDownloadsIt() =>
        portal.RunAsync(new BrowserNewContextOptions { AcceptDownloads = true }, async page =>
        {
            await SignInWithTheKeyboardAsync(page, "Alice Martin");
            await page.WaitForLiveCircuitAsync();

            // A page that opens puts focus on its heading; from the top of the page the skip link comes first and takes
            // focus past the app bar and the menu.
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeFocusedAsync();
            await TabToAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" }), backwards: true);
            await page.Keyboard.PressAsync("Shift+Tab");
            await page.Keyboard.PressAsync("Tab");
            var skip = page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" });
            await Expect(skip).ToBeFocusedAsync();
            await Expect(skip).ToBeInViewportAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator("main#main-content")).ToBeFocusedAsync();

            // The menu; after the page changes, focus is on its heading, shown without a box around it.
            await TabToAsync(page, page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" }).GetByRole(AriaRole.Link, new() { Name = "My data", Exact = true }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("/me$"));
            var heading = page.GetByRole(AriaRole.Heading, new() { Level = 1, Name = "My data" });
            await Expect(heading).ToBeFocusedAsync();
            await Expect(heading).ToHaveCSSAsync("outline-style", "none");

            // Stop one category: the dialog takes focus, keeps it, closes on Escape and gives it back.
            var card = page.Locator(".mud-card").Filter(new() { HasText = "Model Capability Initiative" });
            var stop = card.GetByRole(AriaRole.Button, new() { Name = "Stop Performance data" });
            await TabToAsync(page, stop);
            await page.Keyboard.PressAsync("Enter");
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog).ToContainTextAsync("stops the moment you confirm");
            await ExpectFocusInsideAsync(dialog);
            for (var i = 0; i < 8; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                await ExpectFocusInsideAsync(dialog);
            }
            await page.Keyboard.PressAsync("Escape");
            await Expect(dialog).ToHaveCountAsync(0);
            await Expect(stop).ToBeFocusedAsync();

            await page.Keyboard.PressAsync("Enter");
            await TabToAsync(page, dialog.GetByRole(AriaRole.Button, new() { Name = "Withdraw consent" }));
            await page.Keyboard.PressAsync("Enter");
            // The outcome is announced: it is a status message, not only new text in the dialog.
            await Expect(dialog.GetByRole(AriaRole.Status)).ToContainTextAsync("Nothing more is collected");
            // The confirming button is gone; focus is on Close, still inside the dialog.
            await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Close" })).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Expect(dialog).ToHaveCountAsync(0);
            await Expect(card.Locator("tr").Filter(new() { HasText = "Performance data" })).ToContainTextAsync("stopped by you");

            // And back in, from the same row.
            var rejoin = card.GetByRole(AriaRole.Button, new() { Name = "Re-join Performance data" });
            await TabToAsync(page, rejoin);
            await page.Keyboard.PressAsync("Enter");
            await TabToAsync(page, dialog.GetByRole(AriaRole.Button, new() { Name = "Re-join", Exact = true }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(dialog.GetByRole(AriaRole.Status)).ToContainTextAsync("collected again");
            await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Close" })).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Escape");
            await Expect(dialog).ToHaveCountAsync(0);
            await Expect(card.Locator("tr").Filter(new() { HasText = "Performance data" })).Not.ToContainTextAsync("stopped by you");

            // Ask for a copy, then download it from the request's page.
            await TabToAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
            await page.WaitForLiveCircuitAsync();
            var downloadLink = page.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^Download (my data|again)$") });
            await TabToAsync(page, downloadLink);
            var download = await page.RunAndWaitForDownloadAsync(() => page.Keyboard.PressAsync("Enter"));
            Assert.Null(await download.FailureAsync());
            Assert.Matches("^my-data-EXP-.*\\.zip$", download.SuggestedFilename);
            // Its progress and end are announced from a live region.
            await Expect(page.GetByTestId("export-progress")).ToHaveAttributeAsync("role", "status");
            await Expect(page.GetByTestId("export-progress")).ToContainTextAsync("records written");
        });

    [Fact]
    public Task Priya_WithTheKeyboardOnly_PausesAProgram_AfterCorrectingTheReason() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await SignInWithTheKeyboardAsync(page, "Priya Raman");
            await page.WaitForLiveCircuitAsync();
            await TabToAsync(page, page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" }).GetByRole(AriaRole.Link, new() { Name = "Programs", Exact = true }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("/programs$"));
            // Endpoint security, not mci: the other browser tests collect and read under mci.
            await TabToAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Endpoint security monitoring" }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("/programs/endpoint-security$"));
            await page.WaitForLiveCircuitAsync();

            var pause = page.GetByRole(AriaRole.Button, new() { Name = "Pause…" });
            await TabToAsync(page, pause);
            await page.Keyboard.PressAsync("Enter");
            var dialog = page.GetByRole(AriaRole.Dialog);
            await ExpectFocusInsideAsync(dialog);
            await page.Keyboard.PressAsync("Escape");
            await Expect(dialog).ToHaveCountAsync(0);
            await Expect(pause).ToBeFocusedAsync();

            await page.Keyboard.PressAsync("Enter");
            await ExpectFocusInsideAsync(dialog);
            // Pausing without a reason: the error is announced and tied to the field it is about.
            await TabToAsync(page, dialog.GetByRole(AriaRole.Button, new() { Name = "Pause now" }));
            await page.Keyboard.PressAsync("Enter");
            var error = dialog.GetByRole(AriaRole.Alert);
            await Expect(error).ToContainTextAsync("reason");
            var reason = dialog.GetByRole(AriaRole.Textbox, new() { Name = "Reason (required)" });
            await Expect(reason).ToHaveAttributeAsync("aria-describedby", new Regex($@"(^|\s){Regex.Escape(await error.GetAttributeAsync("id") ?? "no id")}(\s|$)"));
            await Expect(reason).ToHaveAttributeAsync("aria-invalid", "true");

            await TabToAsync(page, reason);
            await page.Keyboard.TypeAsync("Keyboard test: the agent logs more than the register says.");
            await TabToAsync(page, dialog.GetByRole(AriaRole.Button, new() { Name = "Pause now" }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(dialog).ToHaveCountAsync(0);
            await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("The whole program is paused");
            // The snackbar that says so is a live region (MudBlazor renders it role="alert", aria-live="polite").
            await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Paused." })).ToHaveCountAsync(1);
        });

    [Fact]
    public Task Alice_WithTheKeyboardOnly_FiltersHerRecordsByCategory_AndPagesThroughThem() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await SignInWithTheKeyboardAsync(page, "Alice Martin");
            await page.GotoAsync("/me/programs/mci");
            await page.WaitForLiveCircuitAsync();
            var records = page.Locator("section[aria-labelledby=records-heading] tbody tr");
            await Expect(records).ToHaveCountAsync(25);
            var firstRow = await records.First.InnerTextAsync();

            // The pager: the next page of records.
            await TabToAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Next page" }));
            await page.Keyboard.PressAsync("Enter");
            await Expect(records.First).Not.ToHaveTextAsync(firstRow);

            // The category filter: open it, go down from "All categories" to Keystrokes, choose it.
            var filter = page.GetByRole(AriaRole.Combobox, new() { Name = "Category" });
            await TabToAsync(page, filter);
            await page.Keyboard.PressAsync("ArrowDown");
            var keystrokes = page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex("^Keystrokes") });
            await Expect(keystrokes).ToBeVisibleAsync();
            await page.Keyboard.PressAsync("ArrowDown");
            await Expect(filter).ToHaveAttributeAsync("aria-activedescendant", await keystrokes.GetAttributeAsync("id") ?? "(no id)");
            await page.Keyboard.PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("[?&]category=keystrokes"));
            await Expect(records.First).ToContainTextAsync("Keystrokes");
        });

    /// <summary>Signs in on the developer sign-in page by tabbing to the person's button and pressing Enter.</summary>
    private static async Task SignInWithTheKeyboardAsync(IPage page, string displayName)
    {
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Developer sign-in" })).ToBeVisibleAsync();
        await TabToAsync(page, page.GetByRole(AriaRole.Button, new() { Name = displayName }));
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Welcome");
    }

    /// <summary>Presses Tab until <paramref name="target"/> has focus; fails when it is not reached within a page's worth of stops.</summary>
    private static async Task TabToAsync(IPage page, ILocator target, bool backwards = false)
    {
        await Expect(target).ToBeVisibleAsync();
        for (var stops = 0; stops < 120; stops++)
        {
            if (await target.EvaluateAsync<bool>("element => element === document.activeElement || element.contains(document.activeElement) && document.activeElement.matches('input, textarea')"))
                return;
            await page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
        }
        Assert.Fail($"Tab never reached {target}; focus is on {await page.EvaluateAsync<string>("() => document.activeElement?.outerHTML.slice(0, 200)")}.");
    }

    /// <summary>Waits (a dialog takes focus once it has rendered) until focus is inside <paramref name="container"/>.</summary>
    private static async Task ExpectFocusInsideAsync(ILocator container)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !await container.EvaluateAsync<bool>("element => element.contains(document.activeElement)"); await Task.Delay(50))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Focus is not in the dialog: it is on {await container.Page.EvaluateAsync<string>("() => document.activeElement?.outerHTML.slice(0, 200)")}.");
        }
    }
}
