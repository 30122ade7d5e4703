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

    /// <summary>
    /// WCAG 1.4.11 (non-text contrast), which axe does not measure: the line that shows where a field is has at least
    /// 3:1 against what is behind it, in both themes. Checked on a program's page, whose category and date filters
    /// are underlined fields (outlined ones use the same colour).
    /// </summary>
    [Fact]
    public Task FieldOutlines_InBothThemes_HaveAtLeast3To1AgainstTheirBackground() =>
        portal.RunAsync(new BrowserNewContextOptions { ReducedMotion = ReducedMotion.Reduce }, async page =>
        {
            await page.SignInAsync("Alice Martin");
            await page.GotoAsync("/me/programs/mci");
            await page.WaitForLiveCircuitAsync();
            var weak = new List<string>();
            foreach (var theme in new[] { "dark", "light" })
            {
                if (theme == "light")
                {
                    await page.GetByRole(AriaRole.Banner).GetByRole(AriaRole.Button, new() { Name = "Switch theme" }).ClickAsync();
                    await Expect(page.GetByRole(AriaRole.Banner)).ToHaveCSSAsync("background-color", PortalPage.AppBarColor(dark: false));
                    await AccessibilityTests.WaitForTransitionsAsync(page);
                }
                var ratios = await page.EvaluateAsync<string>("""
                    () => {
                        const rgba = text => { const [r, g, b, a = 1] = text.match(/[\d.]+/g).map(Number); return { r, g, b, a }; };
                        const over = (top, below) => ({ r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a), b: top.b * top.a + below.b * (1 - top.a), a: 1 });
                        const luminance = c => [c.r, c.g, c.b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
                            .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
                        const background = element => {
                            for (let e = element; e; e = e.parentElement) {
                                const colour = rgba(getComputedStyle(e).backgroundColor);
                                if (colour.a > 0) return colour.a === 1 ? colour : over(colour, background(e.parentElement) ?? { r: 255, g: 255, b: 255, a: 1 });
                            }
                            return { r: 255, g: 255, b: 255, a: 1 };
                        };
                        const lines = [
                            ...[...document.querySelectorAll('main .mud-input-outlined-border')].map(e => [e, getComputedStyle(e).borderTopColor]),
                            ...[...document.querySelectorAll('main .mud-input-underline')].map(e => [e, getComputedStyle(e, '::before').borderBottomColor]),
                        ];
                        return lines.map(([e, line]) => {
                            const behind = background(e);
                            const [a, b] = [luminance(over(rgba(line), behind)), luminance(behind)];
                            return ((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)).toFixed(2) + ' (' + line + ')';
                        }).join('; ');
                    }
                    """);
                Assert.False(string.IsNullOrEmpty(ratios), "No field outline was found on the page: the test would prove nothing.");
                weak.AddRange(ratios.Split("; ").Where(ratio => double.Parse(ratio.Split(' ')[0], CultureInfo.InvariantCulture) < 3).Select(ratio => $"{theme}: {ratio}"));
            }
            Assert.True(weak.Count == 0, $"Field outlines below 3:1: {string.Join(", ", weak)}");
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
