using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

public sealed class NarrowScreenTests(RunningPortal portal)
{
    private static readonly ViewportSize Phone = new() { Width = 375, Height = 740 };

    [Fact]
    public Task HomePage_OnAPhoneSizedScreen_FitsTheWidthAndItsMenuOpensFromTheToggle() =>
        portal.RunAsync(new BrowserNewContextOptions { ViewportSize = Phone }, async page =>
        {
            await page.SignInAsync("Alice Martin");

            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Alice Martin" })).ToBeVisibleAsync();
            var sideways = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
            Assert.True(sideways <= 0, $"The home page is {sideways} px wider than a {Phone.Width} px screen.");

            var toggle = page.GetByRole(AriaRole.Button, new() { Name = "Toggle navigation" });
            await Expect(toggle).ToBeVisibleAsync();
            var myData = page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" }).GetByRole(AriaRole.Link, new() { Name = "My data", Exact = true });
            await Expect(myData).Not.ToBeInViewportAsync();
            await page.WaitForLiveCircuitAsync();
            // On a phone the responsive drawer closes itself once the live page has measured the screen;
            // the toggle is clicked after that, as a person would after the page has settled.
            await Expect(page.Locator("aside.mud-drawer")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("mud-drawer--closed"));
            await toggle.ClickAsync();
            await Expect(myData).ToBeInViewportAsync();
        });
}
