using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using GovernancePortal.Access;
using Microsoft.AspNetCore.Components;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace GovernancePortal.Browser.Tests.Accessibility;

/// <summary>
/// WCAG 2.1 A/AA on every page (issue 14, docs/accessibility.md): axe-core checks each page of the route
/// table, signed in as one demo user of each role that may open it, in the dark and the light theme, on a
/// desktop and on a 375 px wide screen. A new page fails <see cref="RouteTable_EveryPage_HasAnAxeEntry"/>
/// until it has a row in <see cref="Pages"/>, as a new route fails the authorization matrix.
/// </summary>
public sealed partial class AccessibilityTests(RunningPortal portal)
{
    public const string Anonymous = "anonymous";

    /// <summary>
    /// Filled in by the Employee's run: the page of a request she files, for the one page whose address
    /// names something that exists only once it has been made.
    /// </summary>
    private const string HerExportRequest = "(a copy request Alice files)";

    /// <summary>The demo user who stands for each role (DESIGN §5.2). Bob and Omar are left to other tests.</summary>
    public static readonly IReadOnlyDictionary<string, string> DemoUserOf = new Dictionary<string, string>
    {
        [Roles.Employee] = "Alice Martin",
        [Roles.PrivacyOfficer] = "Priya Raman",
        [Roles.Auditor] = "Audrey Novak",
        [Roles.DataConsumer] = "Dana Okafor",
        [Roles.Admin] = "Portal Admin",
    };

    private static readonly string[] EveryRole = [Roles.Employee, Roles.PrivacyOfficer, Roles.Auditor, Roles.DataConsumer, Roles.Admin];

    /// <summary>Every page, who opens it here (each role that may, as AuthorizationMatrixTests.Expected says) and at which address.</summary>
    public static readonly IReadOnlyList<AxePage> Pages =
    [
        new("/", EveryRole),
        new("/me", [Roles.Employee]) { Dialog = "Stop Keystrokes" },
        new("/me/programs/{Key}", [Roles.Employee], "/me/programs/mci"),
        new("/me/access", [Roles.Employee]),
        new("/me/requests", [Roles.Employee]),
        new("/me/requests/{Reference}", [Roles.Employee], HerExportRequest),
        new("/requests", [Roles.PrivacyOfficer]),
        new("/programs", [Roles.PrivacyOfficer]) { Dialog = "Register a program" },
        new("/programs/{Key}", [Roles.PrivacyOfficer], "/programs/mci") { Dialog = "Pause…" },
        new("/grants/mine", [Roles.DataConsumer]),
        new("/grants/ask", [Roles.DataConsumer], "/grants/ask?program=mci"),
        new("/grants/mine/{Id:long}", [Roles.DataConsumer], "/grants/mine/1"),
        // One person on the page, so a visit writes one read event.
        new("/grants/mine/{Id:long}/read/{Program}", [Roles.DataConsumer], "/grants/mine/1/read/mci?person=alice@example.com"),
        new("/grants", [Roles.PrivacyOfficer]),
        new("/retention", [Roles.PrivacyOfficer]),
        new("/pauses", [Roles.PrivacyOfficer]),
        new("/holds", [Roles.PrivacyOfficer]),
        new("/holds/new", [Roles.PrivacyOfficer]),
        new("/grants/{Id:long}", [Roles.PrivacyOfficer], "/grants/1"),
        new("/grants/exposure/{Key}", [Roles.PrivacyOfficer], "/grants/exposure/mci"),
        new("/audit", [Roles.Auditor]),
        new("/audit/export", [Roles.Auditor]),
        new("/admin/system", [Roles.Admin]),
        // Signed in, but turned away: what a person in the wrong role sees.
        new("/access-denied", [Roles.DataConsumer]),
        new("/error", [Anonymous]),
        new("/not-found", [Anonymous]),
        new("/status/{Code:int}", [Anonymous], "/status/403"),
        new("/signed-out", [Anonymous]),
        new("/account/sign-in-failed", [Anonymous]),
        // Not a Razor route: the developer sign-in page is a component rendered by its own endpoint.
        new("/account/dev-sign-in", [Anonymous]) { IsRazorRoute = false },
    ];

    private static readonly ViewportSize Desktop = new() { Width = 1280, Height = 800 };
    private static readonly ViewportSize Phone = new() { Width = 375, Height = 740 };

    [Fact]
    public void RouteTable_EveryPage_HasAnAxeEntry()
    {
        var routes = PageRoutes().Keys.ToHashSet();
        var listed = Pages.Where(p => p.IsRazorRoute).Select(p => p.Pattern).ToHashSet();

        var unlisted = routes.Except(listed).Order().ToList();
        var stale = listed.Except(routes).Order().ToList();

        Assert.True(unlisted.Count == 0 && stale.Count == 0,
            (unlisted.Count > 0 ? $"Pages without an entry in AccessibilityTests.Pages (add who opens them and at which address): {string.Join(", ", unlisted)}. " : "")
            + (stale.Count > 0 ? $"Entries for pages that no longer exist: {string.Join(", ", stale)}." : ""));
    }

    [Fact]
    public async Task EveryPage_ForEachRole_InBothThemes_OnDesktopAndPhone_HasNoWcagViolation()
    {
        portal.RequireBrowser();
        var interactive = PageRoutes();
        var findings = new ConcurrentBag<Finding>();
        var problems = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();

        // Two roles at a time: the portal and the browser share a small machine with the other tests.
        using var slots = new SemaphoreSlim(2);
        await Task.WhenAll(DemoUserOf.Keys.Prepend(Anonymous).Select(async role =>
        {
            await slots.WaitAsync(TestContext.Current.CancellationToken);
            try
            {
                await CheckRoleAsync(role, interactive, findings, problems);
            }
            finally
            {
                slots.Release();
            }
        }));

        TestContext.Current.TestOutputHelper?.WriteLine($"The axe matrix took {clock.Elapsed.TotalSeconds:0} s.");
        Assert.True(findings.IsEmpty && problems.IsEmpty, Report(findings, problems));
    }

    /// <summary>
    /// One browser context per role, signed in once, for all of its pages, themes and widths. Each page is
    /// loaded afresh (its own circuit, which starts in the browser's preferred dark theme), checked, switched to
    /// the light theme with the app bar's button and checked again.
    /// </summary>
    private async Task CheckRoleAsync(string role, IReadOnlyDictionary<string, bool> interactive, ConcurrentBag<Finding> findings, ConcurrentBag<string> problems)
    {
        await using var context = await portal.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = portal.Portal.BaseAddress!.ToString(),
            ColorScheme = ColorScheme.Dark,
            // Motion off, as people who ask for it get it: no transition is caught half-way by the contrast check.
            ReducedMotion = ReducedMotion.Reduce,
            ViewportSize = Desktop,
        });
        context.SetDefaultTimeout(20_000);
        var watch = await PortalPage.PageProblems.WatchAsync(context);
        var page = await context.NewPageAsync();
        watch.Watch(page);
        var current = "";
        try
        {
            if (role != Anonymous)
                await page.SignInAsync(DemoUserOf[role]);
            var pages = Pages.Where(p => p.Roles.Contains(role)).ToList();
            foreach (var (width, viewport) in new[] { ("desktop", Desktop), ("375 px", Phone) })
            {
                await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
                foreach (var entry in pages)
                {
                    current = $"{entry.Pattern} ({width})";
                    var url = entry.SampleUrl == HerExportRequest ? await FileACopyRequestAsync(page, role, width, findings) : entry.SampleUrl;
                    var live = entry.IsRazorRoute && interactive[entry.Pattern];
                    await OpenAsync(page, url, live, viewport);
                    await RecordAsync(page, new Where(entry.Pattern, role, "dark", width), findings);
                    await CheckDialogAsync(page, entry, new Where($"{entry.Pattern}, dialog {entry.Dialog}", role, "dark", width), findings);
                    if (live)
                    {
                        await page.GetByRole(AriaRole.Banner).GetByRole(AriaRole.Button, new() { Name = "Switch theme" }).ClickAsync();
                        await Expect(page.GetByRole(AriaRole.Banner)).ToHaveCSSAsync("background-color", PortalPage.AppBarColor(dark: false));
                    }
                    else
                    {
                        // Static pages cannot switch; they follow the browser's preference where they have a dark look at all.
                        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
                    }
                    await RecordAsync(page, new Where(entry.Pattern, role, "light", width), findings);
                    await CheckDialogAsync(page, entry, new Where($"{entry.Pattern}, dialog {entry.Dialog}", role, "light", width), findings);
                    await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
                }
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            problems.Add($"{role} at {current}: the check could not finish: {exception.Message}");
        }
        foreach (var seen in watch.Seen)
            problems.Add($"{role}: {seen}");
    }

    /// <summary>Opens the page and waits until it has settled: its heading shown, its circuit live, its drawer where the width puts it.</summary>
    private static async Task OpenAsync(IPage page, string url, bool live, ViewportSize viewport)
    {
        await page.GotoAsync(url);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
        if (!live)
            return;
        await page.WaitForLiveCircuitAsync();
        if (viewport.Width < 960)
            await Expect(page.Locator("aside.mud-drawer")).ToHaveClassAsync(new Regex("mud-drawer--closed"));
        await Expect(page.Locator(".mud-table-loading, .mud-progress-linear-indeterminate")).ToHaveCountAsync(0);
        // What a person can open is checked open: the chart's table of figures, each record's full content.
        await page.EvaluateAsync("() => document.querySelectorAll('main details').forEach(details => details.open = true)");
    }

    /// <summary>Opens the page's dialog, if its entry names one, checks the page with it open and closes it with Escape, unchanged.</summary>
    private static async Task CheckDialogAsync(IPage page, AxePage entry, Where where, ConcurrentBag<Finding> findings)
    {
        if (entry.Dialog is null)
            return;
        await page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Button, new() { Name = entry.Dialog, Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToBeVisibleAsync();
        await RecordAsync(page, where, findings);
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToHaveCountAsync(0);
    }

    /// <summary>Files Alice's copy request from My requests (checking the open dialog on the way) and returns its page's address.</summary>
    private static async Task<string> FileACopyRequestAsync(IPage page, string role, string width, ConcurrentBag<Finding> findings)
    {
        await OpenAsync(page, "/me/requests", live: true, width == "desktop" ? Desktop : Phone);
        await page.GetByRole(AriaRole.Button, new() { Name = "Ask for a copy of all my data" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToBeVisibleAsync();
        await RecordAsync(page, new Where("/me/requests, its dialog open", role, "dark", width), findings);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send the request" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/me/requests/EXP-[A-Z2-9]{4}-[A-Z2-9]{4}$"));
        return new Uri(page.Url).AbsolutePath;
    }

    private static async Task RecordAsync(IPage page, Where where, ConcurrentBag<Finding> findings)
    {
        await WaitForTransitionsAsync(page);
        foreach (var violation in await Axe.CheckAsync(page))
            findings.Add(new Finding(where, violation));
        foreach (var (rule, problem) in await StructureProblemsAsync(page))
            findings.Add(new Finding(where, new AxeViolation(rule, "serious", problem, [], [])));
    }

    /// <summary>
    /// Even with motion reduced, a change of theme starts colour transitions (of 0.01 ms), and until they have run the
    /// computed colours are the old theme's: waits for the frames that end them.
    /// </summary>
    internal static Task WaitForTransitionsAsync(IPage page) =>
        page.EvaluateAsync("""
            async () => {
                for (let frame = 0; frame < 120; frame++) {
                    await new Promise(done => requestAnimationFrame(done));
                    if (frame > 0 && !document.getAnimations().some(animation => animation instanceof CSSTransition))
                        return;
                }
            }
            """);

    /// <summary>
    /// What axe does not check (issue 14, "Structure", "Forms" and "Zoom"): exactly one h1; a title that names the
    /// page before the portal's name; the banner and navigation landmarks on the pages with the menu; a visible
    /// label for every field (axe accepts an invisible name); and no sideways scrolling (WCAG 1.4.10, reflow).
    /// </summary>
    private static async Task<IReadOnlyList<(string Rule, string Problem)>> StructureProblemsAsync(IPage page)
    {
        var json = await page.EvaluateAsync<string>("""
            () => JSON.stringify({
                headingOnes: document.querySelectorAll('h1').length,
                title: document.title,
                menu: document.querySelector('.mud-drawer') !== null,
                banners: document.querySelectorAll('header.mud-appbar').length,
                navigations: document.querySelectorAll('nav[aria-label]').length,
                sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                withoutVisibleLabel: [...document.querySelectorAll('input:not([type=hidden]), select, textarea, [role=combobox]')]
                    .filter(field => field.checkVisibility())
                    .filter(field => ![...(field.labels ?? []), ...(field.id ? document.querySelectorAll(`label[for="${CSS.escape(field.id)}"]`) : []),
                                       ...(field.getAttribute('aria-labelledby') ?? '').split(' ').filter(id => id).map(id => document.getElementById(id)).filter(label => label),
                                       // A MudBlazor field's label is for its inner input; it is the label shown in the field's own control.
                                       ...(field.closest('.mud-input-control')?.querySelectorAll('label.mud-input-label') ?? [])]
                        .some(label => label.checkVisibility() && label.textContent.trim() !== ''))
                    .map(field => field.outerHTML.slice(0, 160)),
            })
            """);
        var facts = System.Text.Json.JsonSerializer.Deserialize<PageFacts>(json, new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        var problems = new List<(string, string)>();
        if (facts.HeadingOnes != 1)
            problems.Add(("one-h1", $"The page has {facts.HeadingOnes} h1 elements; it needs exactly one"));
        if (!Regex.IsMatch(facts.Title, @"^\S.* · Governance Portal$"))
            problems.Add(("page-title", $"The title \"{facts.Title}\" does not name the page before \" · Governance Portal\""));
        if (facts.Menu && (facts.Banners != 1 || facts.Navigations < 1))
            problems.Add(("banner-and-navigation", $"The page has {facts.Banners} banner(s) and {facts.Navigations} named navigation landmark(s)"));
        foreach (var field in facts.WithoutVisibleLabel)
            problems.Add(("visible-label", $"A field has no visible label: {field}"));
        if (facts.Sideways > 0)
            problems.Add(("reflow", $"The page scrolls sideways by {facts.Sideways} px (WCAG 1.4.10)"));
        return problems;
    }

    private sealed record PageFacts(int HeadingOnes, string Title, bool Menu, int Banners, int Navigations, int Sideways, IReadOnlyList<string> WithoutVisibleLabel);

    /// <summary>The page routes of the portal's own Razor components, each with whether it runs on a circuit.</summary>
    private static IReadOnlyDictionary<string, bool> PageRoutes() =>
        typeof(GovernancePortal.Web.Components.Routes).Assembly.GetTypes()
            .Where(type => typeof(IComponent).IsAssignableFrom(type))
            .SelectMany(type => type.GetCustomAttributes<RouteAttribute>().Select(route => (route.Template,
                Live: type.GetCustomAttribute<ExcludeFromInteractiveRoutingAttribute>() is null)))
            .ToDictionary(route => route.Template, route => route.Live);

    /// <summary>A count per rule, then every violation with where it was and each element's selector and markup.</summary>
    private static string Report(IReadOnlyCollection<Finding> findings, IReadOnlyCollection<string> problems)
    {
        var text = new StringBuilder();
        if (findings.Count > 0)
        {
            text.AppendLine($"axe-core found {findings.Count} violation(s) of WCAG 2.1 A/AA or the kept best practices:");
            foreach (var rule in findings.GroupBy(f => f.Violation.Id).OrderByDescending(g => g.Sum(f => Math.Max(1, f.Violation.Nodes.Count))))
                text.AppendLine($"  {rule.Key} ({rule.First().Violation.Impact}): {rule.Sum(f => Math.Max(1, f.Violation.Nodes.Count))} element(s) on {rule.Count()} page check(s) — {rule.First().Violation.Help}");
            text.AppendLine();
            foreach (var finding in findings.OrderBy(f => f.Where.Page, StringComparer.Ordinal).ThenBy(f => f.Where.Role).ThenBy(f => f.Where.Width).ThenBy(f => f.Where.Theme).ThenBy(f => f.Violation.Id))
            {
                var (where, violation) = (finding.Where, finding.Violation);
                text.AppendLine($"{violation.Id} on {where.Page} as {where.Role}, {where.Theme} theme, {where.Width}: {violation.Help}");
                foreach (var node in violation.Nodes)
                    text.AppendLine($"    {node.Selector}  {Shorten(node.Html)}  {Shorten(node.FailureSummary.Replace("Fix any of the following:", "").Replace("Fix all of the following:", ""), 320)}");
            }
        }
        if (problems.Count > 0)
        {
            text.AppendLine("The pages also reported problems:");
            foreach (var problem in problems)
                text.AppendLine("  " + problem);
        }
        return text.ToString();
    }

    private static string Shorten(string text, int length = 200)
    {
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= length ? text : text[..length] + "…";
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    private sealed record Where(string Page, string Role, string Theme, string Width);

    private sealed record Finding(Where Where, AxeViolation Violation);
}

/// <summary>A page of the axe matrix: its route pattern, the roles it is checked for, and the address to open.</summary>
public sealed record AxePage(string Pattern, IReadOnlyList<string> Roles, string? Sample = null)
{
    public string SampleUrl => Sample ?? Pattern;

    /// <summary>The name of a button on the page that opens a dialog, to check the page with it open too; nothing is confirmed.</summary>
    public string? Dialog { get; init; }

    /// <summary>False for a page that is not a Razor component route (so the route table does not list it).</summary>
    public bool IsRazorRoute { get; init; } = true;
}
