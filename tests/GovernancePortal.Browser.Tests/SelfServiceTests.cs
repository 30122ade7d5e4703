using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>An employee's own journey, as a new user would try it: her data, a revocation, her requests and a copy of everything.</summary>
public sealed class SelfServiceTests(RunningPortal portal)
{
    [Fact]
    public Task Employee_StopsACategory_AsksForACopy_DownloadsIt_AndSeesTheReceipt() =>
        portal.RunAsync(new BrowserNewContextOptions { AcceptDownloads = true }, async page =>
        {
            await page.SignInAsync("Alice Martin");
            await page.WaitForLiveCircuitAsync();
            await page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" }).GetByRole(AriaRole.Link, new() { Name = "My data", Exact = true }).ClickAsync();

            var card = page.Locator(".mud-card").Filter(new() { HasText = "Model Capability Initiative" });
            await Expect(card).ToBeVisibleAsync();
            // Transcriptions: the withdrawal's erasure really deletes them, and no other browser test reads alice's.
            var row = card.Locator("tr").Filter(new() { HasText = "Meeting transcriptions" });
            await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog).ToContainTextAsync("stops the moment you confirm");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Withdraw consent" }).ClickAsync();
            await Expect(dialog).ToContainTextAsync("Nothing more is collected about you");
            var erasure = await dialog.Locator("strong").Filter(new() { HasTextRegex = new Regex("^ERA-") }).InnerTextAsync();
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            await Expect(row).ToContainTextAsync("stopped by you");

            await page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" }).GetByRole(AriaRole.Link, new() { Name = "My requests" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = erasure })).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Send the request" }).ClickAsync();

            await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
            await Expect(page.GetByTestId("what-next")).ToContainTextAsync("ready to download now");
            var download = await page.RunAndWaitForDownloadAsync(() =>
                page.GetByRole(AriaRole.Link, new() { Name = "Download my data" }).ClickAsync());
            Assert.Null(await download.FailureAsync());
            Assert.Matches("^my-data-EXP-.*\\.zip$", download.SuggestedFilename);
            var path = await download.PathAsync();
            using (var zip = ZipFile.OpenRead(path))
            {
                Assert.Contains("records.json", zip.Entries.Select(e => e.FullName));
                using var records = JsonDocument.Parse(zip.GetEntry("records.json")!.Open());
                Assert.True(records.RootElement.GetArrayLength() > 0);
            }

            await Expect(page.GetByTestId("status")).ToContainTextAsync("Completed");
            await Expect(page.GetByTestId("receipt")).ToContainTextAsync("records");
        });
}
