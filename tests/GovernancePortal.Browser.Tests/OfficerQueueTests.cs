using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// A privacy officer works the queue in a live page, and an auditor sees what staff looked at: one
/// queue event per visit (the prerendered page is handed to the circuit, not read twice) and one per
/// request opened. Other tests open the queue as Priya too, so it counts what her visit adds, alone in
/// the collection that runs after the others.
/// </summary>
[Collection(nameof(SessionEndingTests))]
public sealed partial class OfficerQueueTests(RunningPortal portal)
{
    [Fact]
    public async Task Officer_OpensTheQueueAndARequest_AndTheAuditorSeesOneEventForEach()
    {
        string reference = "";
        var queueViewsBefore = 0;
        await portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Audrey Novak");
            await page.WaitForLiveCircuitAsync();
            await page.GotoAsync("/audit");
            await page.WaitForLiveCircuitAsync();
            queueViewsBefore = await CountAsync(page, "priya@example.com", "request.queue.viewed");
        });

        await portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Bob Chen");
            await page.WaitForLiveCircuitAsync();
            await page.GotoAsync("/me/requests");
            await page.WaitForLiveCircuitAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Send the request" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
            reference = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        });

        await portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Priya Raman");
            await page.WaitForLiveCircuitAsync();
            await page.GotoAsync("/requests");
            await page.WaitForLiveCircuitAsync();
            await Expect(page.GetByTestId("queue-range")).ToContainTextAsync("Showing 1–");
            var row = page.Locator("tbody tr").Filter(new() { HasText = reference });
            await row.GetByRole(AriaRole.Button, new() { Name = "Extend" }).ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog).ToContainTextAsync(reference);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Expect(dialog).ToHaveCountAsync(0);
        });

        await portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Audrey Novak");
            await page.WaitForLiveCircuitAsync();
            await page.GotoAsync("/audit");
            await page.WaitForLiveCircuitAsync();
            // The filters typed and searched land in the address, and the page shows what the address asks for.
            await page.GetByLabel("Actor").FillAsync("priya@example.com");
            await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/audit\?actor=priya%40example.com$"));
            Assert.Equal(queueViewsBefore + 1, await CountAsync(page, "priya@example.com", "request.queue.viewed"));
            Assert.Equal(1, await CountAsync(page, "priya@example.com", "request.viewed"));
            await Expect(page.Locator("tbody tr td[data-label=Detail]")).ToHaveTextAsync(reference);
        });
    }

    /// <summary>How many events the auditor's page finds for the actor and action (0 when it says none match); at most a page.</summary>
    private static async Task<int> CountAsync(IPage page, string actor, string action)
    {
        await page.GotoAsync($"/audit?actor={Uri.EscapeDataString(actor)}&action={Uri.EscapeDataString(action)}");
        await page.WaitForLiveCircuitAsync();
        var range = page.GetByTestId("audit-range");
        var none = page.GetByTestId("audit-empty");
        await Expect(range.Or(none)).ToBeVisibleAsync();
        if (await none.IsVisibleAsync())
            return 0;
        return await page.Locator("tbody tr").CountAsync();
    }
}
