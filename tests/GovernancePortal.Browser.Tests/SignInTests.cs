using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

public sealed class SignInTests(RunningPortal portal)
{
    [Fact]
    public Task Employee_SignsInFromTheDeveloperPage_LandsHomeWithHerNameOnlyHerAreasAndALiveCircuit() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Alice Martin");

            await Expect(page).ToHaveURLAsync(portal.Portal.BaseAddress!.ToString());
            var appBar = page.GetByRole(AriaRole.Banner);
            await Expect(appBar.GetByText("Alice Martin")).ToBeVisibleAsync();
            var menu = page.GetByRole(AriaRole.Navigation, new() { Name = "Portal areas" });
            await Expect(menu.GetByRole(AriaRole.Link)).ToHaveTextAsync(["Home", "My data", "Who accessed my data", "My requests"]);
            await Expect(menu.GetByRole(AriaRole.Link, new() { Name = "Programs" })).ToHaveCountAsync(0);

            await page.WaitForLiveCircuitAsync();
            var themeSwitch = appBar.GetByRole(AriaRole.Button, new() { Name = "Switch theme" });
            var iconBefore = await themeSwitch.Locator("svg").InnerHTMLAsync();
            await themeSwitch.ClickAsync();
            await Expect(themeSwitch.Locator("svg")).Not.ToHaveJSPropertyAsync("innerHTML", iconBefore);
            await Expect(appBar).ToHaveCSSAsync("background-color", PortalPage.AppBarColor(dark: false));
        });
}
