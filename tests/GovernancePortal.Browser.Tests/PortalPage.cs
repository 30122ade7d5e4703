using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using GovernancePortal.Web.Components.Layout;
using Microsoft.Playwright;
using MudBlazor.Utilities;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// A fresh browser context and page on the running portal. While the steps run it collects what a user
/// would see go wrong (console errors, uncaught script errors, failed or 4xx/5xx requests, any
/// Content-Security-Policy violation) and fails the test on any of them; on failure it saves a
/// screenshot beside the test assembly.
/// The browser prefers a dark colour scheme, which is what makes a live circuit observable
/// (<see cref="WaitForLiveCircuitAsync"/>).
/// </summary>
public static class PortalPage
{
    public static Task RunAsync(this RunningPortal portal, BrowserNewContextOptions options, Func<IPage, Task> steps) =>
        portal.WatchAsync(options, async (page, problems) =>
        {
            await steps(page);
            problems.AssertNone();
        });

    /// <summary>
    /// Runs <paramref name="steps"/> with what the page reported so far, which they assert on themselves:
    /// for the test of the watch itself. Everything else uses <see cref="RunAsync"/>.
    /// </summary>
    public static async Task WatchAsync(this RunningPortal portal, BrowserNewContextOptions options, Func<IPage, PageProblems, Task> steps)
    {
        portal.RequireBrowser();
        options.BaseURL = portal.Portal.BaseAddress!.ToString();
        options.ColorScheme = ColorScheme.Dark;
        await using var context = await portal.Browser.NewContextAsync(options);
        context.SetDefaultTimeout(20_000);
        var problems = await PageProblems.WatchAsync(context);
        var page = await context.NewPageAsync();
        problems.Watch(page);
        try
        {
            await steps(page, problems);
        }
        catch
        {
            await SaveScreenshotAsync(page);
            TestContext.Current.TestOutputHelper?.WriteLine(portal.Portal.Transcript);
            throw;
        }
    }

    /// <summary>Opens the portal signed out, is sent to the developer sign-in page and signs in there as <paramref name="displayName"/>.</summary>
    public static async Task SignInAsync(this IPage page, string displayName)
    {
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex(@"/account/dev-sign-in\?"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Developer sign-in" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = displayName }).ClickAsync();
    }

    /// <summary>
    /// Waits until the page's circuit is live. Pages are prerendered in the light theme; once
    /// interactive, the layout asks the browser (which prefers dark) over JS interop and turns dark.
    /// So a dark app bar means event handlers are attached and that first call is over: a click
    /// after this is neither lost nor raced by it.
    /// </summary>
    public static Task WaitForLiveCircuitAsync(this IPage page) =>
        Expect(page.GetByRole(AriaRole.Banner)).ToHaveCSSAsync("background-color", AppBarColor(dark: true));

    /// <summary>The app bar's background in the portal's dark or light palette, as the browser computes it.</summary>
    public static string AppBarColor(bool dark)
    {
        MudColor color = dark ? PortalTheme.Theme.PaletteDark.AppbarBackground : PortalTheme.Theme.PaletteLight.AppbarBackground;
        return $"rgb({color.R}, {color.G}, {color.B})";
    }

    private static async Task SaveScreenshotAsync(IPage page)
    {
        var name = string.Concat((TestContext.Current.Test?.TestDisplayName ?? "browser-test").Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"{name}.png");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
            TestContext.Current.AddAttachment($"{name}.png", png, "image/png");
            TestContext.Current.TestOutputHelper?.WriteLine($"Screenshot of the failure: {path}");
        }
        catch (PlaywrightException exception)
        {
            // The page may be gone (the failure itself may be a crash); the original failure matters more.
            TestContext.Current.TestOutputHelper?.WriteLine($"No screenshot: {exception.Message}");
        }
    }

    /// <summary>
    /// What went wrong on the pages of one browser context: console errors, uncaught script errors,
    /// failed or 4xx/5xx requests, and every Content-Security-Policy violation, as the page's own
    /// securitypolicyviolation event and as the console line the browser writes for it.
    /// </summary>
    public sealed class PageProblems
    {
        private const string ReportViolation = "__gpReportPolicyViolation";

        private readonly ConcurrentQueue<string> _seen = new();

        private PageProblems()
        {
        }

        public IReadOnlyCollection<string> Seen => _seen;

        /// <summary>
        /// The listener is an init script, so it is in place before any of the page's own scripts run;
        /// init scripts and exposed functions come from the browser's debugging protocol, which the
        /// page's policy does not govern.
        /// </summary>
        public static async Task<PageProblems> WatchAsync(IBrowserContext context)
        {
            var problems = new PageProblems();
            await context.ExposeFunctionAsync<string>(ReportViolation, report => problems._seen.Enqueue($"CSP violation: {report}"));
            await context.AddInitScriptAsync($$"""
                document.addEventListener('securitypolicyviolation', e =>
                    window.{{ReportViolation}}(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber}) on ${document.location.pathname}`));
                """);
            return problems;
        }

        public void Watch(IPage page)
        {
            page.Console += (_, message) =>
            {
                if (message.Type == "error" || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)
                    || message.Text.Contains("Permissions-Policy", StringComparison.OrdinalIgnoreCase))
                    _seen.Enqueue($"console {message.Type}: {message.Text} ({message.Location})");
            };
            page.PageError += (_, error) => _seen.Enqueue($"uncaught error: {error}");
            page.Response += (_, response) =>
            {
                if (response.Status >= 400)
                    _seen.Enqueue($"{response.Status} {response.Request.Method} {response.Url}");
            };
            page.RequestFailed += (_, request) => _seen.Enqueue($"request failed: {request.Method} {request.Url} ({request.Failure})");
        }

        public void AssertNone() =>
            Assert.True(_seen.IsEmpty, $"The page reported problems:{Environment.NewLine}{string.Join(Environment.NewLine, _seen)}");
    }
}
