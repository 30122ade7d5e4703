using GovernancePortal.Browser.Tests;
using GovernancePortal.Web.Tests.Startup;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(RunningPortal))]

namespace GovernancePortal.Browser.Tests;

/// <summary>
/// The real portal as a child process (Development, a fresh SQLite database in a temporary data
/// folder, a free loopback port) and Debian's Chromium driven by Playwright, shared by every browser
/// test of the run. Without Chromium the tests skip, except with <c>CI=true</c>, where they fail.
/// </summary>
public sealed class RunningPortal : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly TemporaryFolder _dataFolder = new("browser-portal");
    private PortalProcess? _portal;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public string? MissingBrowser { get; private set; }

    public PortalProcess Portal => _portal ?? throw new InvalidOperationException("The portal was not started.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser was not started.");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            MissingBrowser = $"Chromium is not installed at {ChromiumPath} (apt-get install chromium).";
            return;
        }
        try
        {
            // The first start migrates and seeds a fresh database, which takes a while on a busy machine.
            _portal = await PortalProcess.StartServingAsync(PortalProcess.BuiltWebDll, _dataFolder.Path, TimeSpan.FromSeconds(120), CancellationToken.None,
                // Open pages check their session every 2 s here (a minute by default), so a sign-out elsewhere shows quickly.
                new Dictionary<string, string> { ["Authentication__Session__RevalidationInterval"] = "00:00:02" });
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArguments,
            });
        }
        catch
        {
            // A portal left running would outlive the test run.
            await DisposeAsync();
            throw;
        }
        // A circuit starting on a loaded two-core machine can take longer than Playwright's default 5 s.
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <summary>Skips the calling test when Chromium is missing, or fails it when <c>CI=true</c>: there a skipped browser test is a test that did not run.</summary>
    public void RequireBrowser()
    {
        if (MissingBrowser is null)
            return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail($"{MissingBrowser} CI=true: a skipped browser test is a failure.");
        Assert.Skip(MissingBrowser);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _browser = null;
        _playwright?.Dispose();
        _playwright = null;
        if (_portal is not null)
            await _portal.DisposeAsync();
        _portal = null;
        _dataFolder.Dispose();
    }
}
