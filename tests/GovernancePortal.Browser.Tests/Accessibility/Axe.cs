using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Playwright;

namespace GovernancePortal.Browser.Tests.Accessibility;

/// <summary>
/// axe-core (npm, pinned in <c>tests/axe/package.json</c> and its lock file) run in a page. Installs
/// its npm package once (<c>npm ci</c>) when <c>node_modules</c> is missing, as <c>.ci/run</c> does.
/// The script is evaluated through the browser's debugging protocol, like Playwright's own scripts:
/// the portal's Content-Security-Policy admits no inline script (AddScriptTagAsync with content would
/// be refused and reported), and the policy is not switched off for these tests, because the pages
/// must be accessible exactly as people get them.
/// </summary>
public static class Axe
{
    /// <summary>WCAG 2.0 and 2.1, levels A and AA, as axe-core tags its rules.</summary>
    private static readonly string[] WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

    /// <summary>
    /// Best practices the portal keeps as well (issue 14): all content inside landmarks, the landmarks
    /// themselves, a level-one heading, a working skip link, and a header cell for every column.
    /// </summary>
    public static bool IsKeptBestPractice(string rule) =>
        rule is "region" or "page-has-heading-one" or "skip-link" or "empty-table-header"
        || rule.StartsWith("landmark-", StringComparison.Ordinal);

    private static readonly Lazy<Task<string>> Source = new(LoadAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Folder { get; } = LocateFolder();

    /// <summary>The violations of WCAG 2.1 A/AA and of the kept best practices on the page as it is now.</summary>
    public static async Task<IReadOnlyList<AxeViolation>> CheckAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
            await page.EvaluateAsync(await Source.Value);
        var options = JsonSerializer.Serialize(new
        {
            runOnly = new { type = "tag", values = WcagTags.Append("best-practice").ToArray() },
            resultTypes = new[] { "violations" },
        });
        var json = await page.EvaluateAsync<string>($"async () => JSON.stringify((await axe.run(document, {options})).violations)");
        var violations = JsonSerializer.Deserialize<List<AxeViolation>>(json, JsonOptions) ?? [];
        return violations.Where(v => v.Tags.Any(WcagTags.Contains) || IsKeptBestPractice(v.Id)).ToList();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static async Task<string> LoadAsync()
    {
        var script = Path.Combine(Folder, "node_modules", "axe-core", "axe.min.js");
        if (!File.Exists(script))
        {
            var start = new ProcessStartInfo("npm") { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "ci", "--no-audit", "--no-fund" })
                start.ArgumentList.Add(argument);
            using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm could not be started.");
            var output = npm.StandardOutput.ReadToEndAsync();
            var error = npm.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await npm.WaitForExitAsync(timeout.Token);
            if (npm.ExitCode != 0 || !File.Exists(script))
                throw new InvalidOperationException($"npm ci in {Folder} failed with exit code {npm.ExitCode}:{Environment.NewLine}{await output}{await error}");
        }
        return await File.ReadAllTextAsync(script);
    }

    private static string LocateFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "tests", "axe");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"No tests/axe/package-lock.json above {AppContext.BaseDirectory}.");
    }
}

public sealed record AxeViolation(string Id, string Impact, string Help, IReadOnlyList<string> Tags, IReadOnlyList<AxeNode> Nodes);

public sealed record AxeNode(
    [property: JsonPropertyName("target")] IReadOnlyList<JsonElement> Target,
    string Html,
    string FailureSummary)
{
    /// <summary>The element's CSS selector (a list of selectors when it sits in a shadow root or a frame).</summary>
    public string Selector => string.Join(" > ", Target.Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() : t.ToString()));
}
