using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// A privacy officer works the queue in a live page, and an auditor sees what staff looked at: one
/// queue event per visit (the prerendered page is handed to the circuit, not read twice) and one per
/// request opened.
/// </summary>
public sealed class OfficerQueueTests(RunningPortal portal)
{
    [Fact]
    public async Task Officer_OpensTheQueueAndARequest_AndTheAuditorSeesOneEventForEach()
    {
        string reference = "";
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
            await page.GetByLabel("Actor").FillAsync("priya@example.com");
            await page.GetByLabel("Action").FillAsync("request.queue.viewed");
            await Expect(page.GetByTestId("audit-range")).ToContainTextAsync("of 1 event.");
            await page.GetByLabel("Action").FillAsync("request.viewed");
            await Expect(page.GetByTestId("audit-range")).ToContainTextAsync("of 1 event.");
            await Expect(page.Locator("tbody tr td[data-label=Detail]")).ToHaveTextAsync(reference);
        });
    }
}
