using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests.Accessibility;

/// <summary>Issue 14, "Zoom and motion": the employee's pages at 200% zoom, and the portal for people who ask for less motion.</summary>
public sealed class ZoomAndMotionTests(RunningPortal portal)
{
    /// <summary>A 1280 × 800 screen at 200% zoom: half as many CSS pixels, each drawn with two device pixels.</summary>
    private static readonly BrowserNewContextOptions At200Percent = new()
    {
        ViewportSize = new() { Width = 640, Height = 400 },
        DeviceScaleFactor = 2,
    };

    [Fact]
    public Task EmployeePages_At200PercentZoom_FitTheWidthWithoutScrollingSideways() =>
        portal.RunAsync(At200Percent, async page =>
        {
            await page.SignInAsync("Alice Martin");
            await page.WaitForLiveCircuitAsync();
            var wider = new List<string>();
            foreach (var path in new[] { "/", "/me", "/me/programs/mci", "/me/access", "/me/requests" })
            {
                await page.GotoAsync(path);
                await page.WaitForLiveCircuitAsync();
                await Expect(page.Locator(".mud-table-loading, .mud-progress-linear-indeterminate")).ToHaveCountAsync(0);
                if (await SidewaysAsync(page) is > 0 and var sideways)
                    wider.Add($"{path}: {sideways} px");
            }
            // A request's own page: Alice's copy request, filed (or found, if one is open) from My data.
            await page.GotoAsync("/me");
            await page.WaitForLiveCircuitAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            if (await SidewaysAsync(page) is > 0 and var requestSideways)
                wider.Add($"{new Uri(page.Url).AbsolutePath}: {requestSideways} px");

            Assert.True(wider.Count == 0, $"At 200% zoom these pages scroll sideways: {string.Join(", ", wider)}");
        });

    [Fact]
    public Task ReducedMotion_WhenThePersonAsksForIt_TransitionsAndAnimationsEndAtOnce() =>
        portal.RunAsync(new BrowserNewContextOptions { ReducedMotion = ReducedMotion.Reduce }, async page =>
        {
            await page.SignInAsync("Alice Martin");
            await page.WaitForLiveCircuitAsync();
            var button = page.Locator("main .mud-button-root").First;
            Assert.True(await LongestSecondsAsync(button, "transitionDuration") <= 0.001, "With reduced motion a button still transitions.");
            Assert.True(await LongestSecondsAsync(page.Locator("aside.mud-drawer"), "transitionDuration") <= 0.001, "With reduced motion the menu still slides.");

            await page.EmulateMediaAsync(new() { ReducedMotion = ReducedMotion.NoPreference });
            // The rule must be what switches it off: without the preference MudBlazor's own transitions are back.
            Assert.True(await LongestSecondsAsync(button, "transitionDuration") >= 0.1, "Without the preference the button has no transition: the test would prove nothing.");
        });

    private static Task<int> SidewaysAsync(IPage page) =>
        page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");

    /// <summary>The longest of an element's transition (or animation) durations, in seconds.</summary>
    private static async Task<double> LongestSecondsAsync(ILocator element, string property)
    {
        var value = await element.EvaluateAsync<string>($"e => getComputedStyle(e).{property}");
        return value.Split(',').Select(part => part.Trim()).Select(part => part.EndsWith("ms", StringComparison.Ordinal)
                ? double.Parse(part[..^2], CultureInfo.InvariantCulture) / 1000
                : double.Parse(part.TrimEnd('s'), NumberStyles.Float, CultureInfo.InvariantCulture))
            .Max();
    }
}
