using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>The issue's journey, as a new user would try it: dana asks, priya approves, dana reads, alice sees the read and who can read her data, priya sees the exposure and ends the grant.</summary>
public sealed class GrantJourneyTests(RunningPortal portal)
{
    [Fact]
    public Task Grant_AskedApprovedReadAndEnded_ThroughThePages() =>
        portal.RunAsync(new BrowserNewContextOptions(), async dana =>
        {
            await dana.SignInAsync("Dana Okafor");
            await dana.GotoAsync("/grants/ask?program=mci");
            await dana.WaitForLiveCircuitAsync();
            await dana.GetByLabel("Mouse movements (low sensitivity)").CheckAsync();
            await dana.GetByLabel("Purpose").FillAsync("Compare pointer use before and after the new assistant toolbar");
            await dana.GetByLabel("Justification").FillAsync("Only pointer movement shows whether the toolbar is used.");
            await dana.GetByLabel("Ends (at the start of that day, UTC)").FillAsync(DateTime.UtcNow.AddDays(20).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            await dana.GetByRole(AriaRole.Button, new() { Name = "Ask for the grant" }).ClickAsync();
            await Expect(dana).ToHaveURLAsync(new Regex(@"/grants/mine/\d+$"));
            var grant = dana.Url[(dana.Url.LastIndexOf('/') + 1)..];
            await Expect(dana.GetByTestId("grant-status")).ToHaveTextAsync("Waiting for review");

            var officer = await portal.Browser.NewContextAsync(new() { BaseURL = portal.Portal.BaseAddress!.ToString(), ColorScheme = ColorScheme.Dark });
            var priya = await officer.NewPageAsync();
            await priya.SignInAsync("Priya Raman");
            await priya.GotoAsync($"/grants/{grant}");
            await priya.WaitForLiveCircuitAsync();
            await priya.GetByLabel("Note for the requester (required)").FillAsync("Pointer movement only, for the toolbar study");
            await priya.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
            await Expect(priya.GetByTestId("review-message")).ToContainTextAsync("the grant is active");

            await dana.GotoAsync($"/grants/mine/{grant}/read/mci?person=alice@example.com");
            await Expect(dana.GetByTestId("read-records").Locator("tbody tr")).ToHaveCountAsync(25);

            var employee = await portal.Browser.NewContextAsync(new() { BaseURL = portal.Portal.BaseAddress!.ToString(), ColorScheme = ColorScheme.Dark });
            var alice = await employee.NewPageAsync();
            await alice.SignInAsync("Alice Martin");
            await alice.GotoAsync("/me/access");
            await Expect(alice.GetByText("dana@example.com").First).ToBeVisibleAsync();
            await alice.GotoAsync("/me");
            await Expect(alice.GetByTestId("readers-now")).ToContainTextAsync("Compare pointer use before and after the new assistant toolbar");

            await priya.GotoAsync("/grants/exposure/mci");
            await Expect(priya.GetByTestId("exposure-readers")).ToContainTextAsync("dana@example.com");
            await priya.GotoAsync($"/grants/{grant}");
            await priya.WaitForLiveCircuitAsync();

            await priya.GetByLabel("Reason the holder sees (required)").FillAsync("Toolbar study finished");
            await priya.GetByRole(AriaRole.Button, new() { Name = "End the grant" }).ClickAsync();
            await Expect(priya.GetByTestId("review-message")).ToContainTextAsync("Ended");

            await dana.WaitForLiveCircuitAsync();
            await dana.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
            await Expect(dana.GetByTestId("read-stopped")).ToContainTextAsync("Toolbar study finished");
            await officer.CloseAsync();
            await employee.CloseAsync();
        });
}
