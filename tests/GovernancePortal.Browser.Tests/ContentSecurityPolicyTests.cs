using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// The portal's pages under its own Content-Security-Policy, in a real browser: each main page, opened
/// by the demo user it is for, loads without a violation and comes alive (its circuit answers a click).
/// Any violation fails every browser test (<see cref="PortalPage.PageProblems"/>); this one visits them all.
/// </summary>
public sealed class ContentSecurityPolicyTests(RunningPortal portal)
{
    public static TheoryData<string, string[]> MainPages => new()
    {
        { "Alice Martin", ["/", "/me", "/me/programs/mci", "/me/access", "/me/requests"] },
        { "Priya Raman", ["/programs", "/programs/mci", "/requests"] },
        { "Audrey Novak", ["/audit"] },
        { "Dana Okafor", ["/grants/mine"] },
        { "Portal Admin", ["/admin/system"] },
    };

    [Theory]
    [MemberData(nameof(MainPages))]
    public Task MainPages_AsTheirUser_LoadWithoutAViolation_AndAnswerAClick(string user, string[] paths) =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync(user);
            foreach (var path in paths)
            {
                await page.GotoAsync(path);
                await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
                await page.WaitForLiveCircuitAsync();
                // The theme switch is answered by the circuit: the app bar turns light only if the click
                // reached the server and its render came back through the policy.
                await page.GetByRole(AriaRole.Banner).GetByRole(AriaRole.Button, new() { Name = "Switch theme" }).ClickAsync();
                await Expect(page.GetByRole(AriaRole.Banner)).ToHaveCSSAsync("background-color", PortalPage.AppBarColor(dark: false));
            }
        });

    [Fact]
    public Task JobsDashboard_AsAdmin_LoadsWithoutAViolation_AndItsLinksWork() =>
        portal.RunAsync(new BrowserNewContextOptions(), async page =>
        {
            await page.SignInAsync("Portal Admin");

            await page.GotoAsync("/admin/jobs");
            await page.GetByRole(AriaRole.Link, new() { Name = "Recurring Jobs" }).First.ClickAsync();

            await Expect(page).ToHaveURLAsync(new Regex("/admin/jobs/recurring$"));
        });

    [Fact]
    public Task InlineScript_InjectedIntoAPage_IsRefusedAndReported() =>
        portal.WatchAsync(new BrowserNewContextOptions(), async (page, problems) =>
        {
            await page.GotoAsync("/account/dev-sign-in");

            await page.EvaluateAsync("""
                () => {
                    const script = document.createElement('script');
                    script.textContent = 'window.gpInlineRan = true';
                    document.head.appendChild(script);
                }
                """);

            Assert.False(await page.EvaluateAsync<bool>("() => window.gpInlineRan === true"));
            await WaitUntilAsync(() => problems.Seen.Any(seen => seen.StartsWith("CSP violation: script-src", StringComparison.Ordinal)),
                () => $"The injected script was not reported; seen: {string.Join(" | ", problems.Seen)}");
        });

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> failure)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !condition(); await Task.Delay(50))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail(failure());
        }
    }
}
