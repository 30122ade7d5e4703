using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using Xunit.v3;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// A certified OpenID Provider that nobody here wrote: npm <c>oidc-provider</c> run by Node.js from
/// <c>tests/oidc-provider/provider.mjs</c>, on a free loopback port, for one client. Its accounts are
/// those of <c>tests/oidc-provider/accounts.json</c>; its login page takes an account name. Installs
/// its npm packages once (<c>npm ci</c>) when <c>node_modules</c> is missing. Without Node.js 20 or
/// later the tests that need it are skipped, or fail when <c>CI=true</c>, where a skip is a failure.
/// </summary>
public sealed partial class CertifiedProvider : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<Task<string?>> Installation = new(InstallAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Process _process;
    private readonly List<string> _output = [];

    private CertifiedProvider(Process process) => _process = process;

    /// <summary>The provider's issuer, <c>http://127.0.0.1:port</c> without a trailing slash, exactly as its discovery document and tokens say.</summary>
    public string Issuer { get; private set; } = "";

    private Uri Root => new(Issuer + "/");

    /// <summary>Whether <paramref name="uri"/> is one of the provider's addresses.</summary>
    public bool Serves(Uri uri) => uri.IsAbsoluteUri && uri.Authority == Root.Authority;

    /// <summary>What the provider printed, for a failure message.</summary>
    public string Transcript
    {
        get
        {
            lock (_output)
                return string.Join(Environment.NewLine, _output);
        }
    }

    public static string Folder { get; } = LocateFolder();

    /// <summary>
    /// Starts the provider with one confidential client whose only redirect URIs are
    /// <paramref name="redirectUri"/> and <paramref name="postLogoutRedirectUri"/>. With
    /// <paramref name="claimsInIdToken"/> the scope claims are in the ID token as well as at the userinfo endpoint.
    /// </summary>
    public static async Task<CertifiedProvider> StartAsync(string clientId, string clientSecret, Uri redirectUri, Uri postLogoutRedirectUri,
        bool claimsInIdToken)
    {
        if (await Installation.Value is { } problem)
            throw Unavailable(problem);

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "provider.mjs", "--port", "0", "--exit-with-stdin",
                     "--client-id", clientId, "--client-secret", clientSecret,
                     "--redirect-uri", redirectUri.AbsoluteUri, "--post-logout-redirect-uri", postLogoutRedirectUri.AbsoluteUri,
                 })
            start.ArgumentList.Add(argument);
        if (claimsInIdToken)
            start.ArgumentList.Add("--claims-in-id-token");

        var provider = new CertifiedProvider(new Process { StartInfo = start });
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider._process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
                return;
            provider.Record(line.Data);
            if (ReadyLine().Match(line.Data) is { Success: true } match)
                ready.TrySetResult(match.Groups["issuer"].Value);
        };
        provider._process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
                provider.Record(line.Data);
        };
        provider._process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("The provider exited before it was ready."));
        provider._process.EnableRaisingEvents = true;
        provider._process.Start();
        provider._process.BeginOutputReadLine();
        provider._process.BeginErrorReadLine();
        try
        {
            provider.Issuer = await ready.Task.WaitAsync(StartTimeout);
            await provider.WaitForDiscoveryAsync();
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or HttpRequestException)
        {
            await provider.DisposeAsync();
            throw new InvalidOperationException($"oidc-provider did not start: {exception.Message}{Environment.NewLine}{provider.Transcript}", exception);
        }
        return provider;
    }

    /// <summary>A browser for the provider's side of the flow: real HTTP, the provider's cookies kept, no redirect followed.</summary>
    public HttpClient CreateBrowser() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseProxy = false });

    /// <summary>
    /// Takes the portal's authorization request to the provider, signs in as <paramref name="account"/> at its
    /// login page (or cancels there when <paramref name="account"/> is null) and returns the provider's
    /// authorization response: the self-submitting form of the form_post response mode, or a redirect.
    /// </summary>
    public async Task<HttpResponseMessage> AuthorizeAsync(HttpClient browser, Uri authorizationRequest, string? account)
    {
        var response = await FollowAsync(browser, await browser.GetAsync(authorizationRequest, Cancellation));
        var html = await response.Content.ReadAsStringAsync(Cancellation);
        var action = account is null ? "/abort" : "/login";
        var form = new HtmlParser().ParseDocument(html).Forms.FirstOrDefault(f => f.GetAttribute("action")?.EndsWith(action, StringComparison.Ordinal) == true);
        Assert.True(response.StatusCode == HttpStatusCode.OK && form is not null,
            $"The provider did not show its login page: {(int)response.StatusCode} {html}{Environment.NewLine}{Transcript}");
        response.Dispose();
        var fields = account is null ? [] : new Dictionary<string, string> { ["account"] = account };
        using var submitted = await browser.PostAsync(new Uri(Root, form.GetAttribute("action")), new FormUrlEncodedContent(fields), Cancellation);
        return await FollowAsync(browser, submitted);
    }

    /// <summary>
    /// Takes the portal's end-session request (RP-initiated logout) to the provider, confirms the sign-out on
    /// its page and returns the provider's answer: a redirect to the portal's post-logout redirect URI.
    /// </summary>
    public async Task<HttpResponseMessage> ConfirmSignOutAsync(HttpClient browser, Uri endSessionRequest)
    {
        using var page = await FollowAsync(browser, await browser.GetAsync(endSessionRequest, Cancellation));
        var html = await page.Content.ReadAsStringAsync(Cancellation);
        var form = new HtmlParser().ParseDocument(html).Forms.FirstOrDefault(f => f.GetAttribute("action")?.EndsWith("/session/end/confirm", StringComparison.Ordinal) == true);
        Assert.True(page.StatusCode == HttpStatusCode.OK && form is not null,
            $"The provider did not ask to confirm the sign-out: {(int)page.StatusCode} {html}{Environment.NewLine}{Transcript}");
        var fields = form.QuerySelectorAll("input[type=hidden]")
            .Select(input => KeyValuePair.Create(input.GetAttribute("name")!, input.GetAttribute("value") ?? ""))
            .Append(KeyValuePair.Create("logout", "yes"));
        using var confirmed = await browser.PostAsync(new Uri(Root, form.GetAttribute("action")), new FormUrlEncodedContent(fields), Cancellation);
        return await FollowAsync(browser, confirmed);
    }

    /// <summary>Follows the provider's redirects to its own pages; stops at anything else (a page, or a redirect to the portal).</summary>
    private async Task<HttpResponseMessage> FollowAsync(HttpClient browser, HttpResponseMessage response)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            if (!IsRedirect(response))
                return response;
            var target = new Uri(response.RequestMessage!.RequestUri!, response.Headers.Location!);
            if (!Serves(target))
                return response;
            response.Dispose();
            response = await browser.GetAsync(target, Cancellation);
        }
        throw new InvalidOperationException("The provider redirected more than ten times.");
    }

    public static bool IsRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is >= 301 and <= 303 or 307 or 308 && response.Headers.Location is not null;

    private async Task WaitForDiscoveryAsync()
    {
        using var client = new HttpClient(new HttpClientHandler { UseProxy = false });
        var discovery = new Uri(Root, ".well-known/openid-configuration");
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(discovery, Cancellation);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"{discovery} did not answer 200 within {StartTimeout.TotalSeconds} s.");
            await Task.Delay(100, Cancellation);
        }
    }

    private void Record(string line)
    {
        lock (_output)
            _output.Add(line);
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static Exception Unavailable(string problem)
    {
        var reason = $"The certified OpenID Provider cannot run: {problem}";
        return string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? new InvalidOperationException(reason + " (CI=true: a skipped sign-in test is a failure; .ci/run installs the packages)")
            // The dynamic skip contract of xunit v3, as Assert.Skip throws it.
            : new InvalidOperationException(DynamicSkipToken.Value + reason);
    }

    /// <summary>Null when Node.js 20 or later is on the PATH and the provider's packages are installed (installing them if need be); else why not.</summary>
    private static async Task<string?> InstallAsync()
    {
        var (exit, version) = await RunAsync("node", "--version");
        if (exit != 0)
            return "Node.js (node) is not on the PATH; oidc-provider 9 needs Node.js 20 or later";
        if (!int.TryParse(NodeMajor().Match(version).Groups["major"].Value, out var major) || major < 20)
            return $"oidc-provider 9 needs Node.js 20 or later, and node --version says {version.Trim()}";
        if (File.Exists(Path.Combine(Folder, "node_modules", "oidc-provider", "package.json")))
            return null;
        var (installed, output) = await RunAsync("npm", "ci", "--no-audit", "--no-fund");
        return installed == 0 ? null : $"npm ci in {Folder} failed with exit code {installed}:{Environment.NewLine}{output}";
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (-1, exception.Message);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{program} did not finish within 5 minutes");
            }
            return (process.ExitCode, await output + await error);
        }
    }

    private static string LocateFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "tests", "oidc-provider");
            if (File.Exists(Path.Combine(candidate, "provider.mjs")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"No tests/oidc-provider/provider.mjs above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^oidc-provider ready at (?<issuer>http://\S+)$")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"^v(?<major>\d+)\.")]
    private static partial Regex NodeMajor();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started: nothing to end.
        }
        _process.Dispose();
    }
}
