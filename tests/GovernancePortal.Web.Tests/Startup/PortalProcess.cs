using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace GovernancePortal.Web.Tests.Startup;

/// <summary>
/// The portal run the way an operator runs it: <c>dotnet GovernancePortal.Web.dll</c> as a child
/// process with its own environment, its output captured, always ended on dispose. The browser
/// tests compile this file too.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    /// <summary>Settings a developer's shell or CI may carry that would change what the child does.</summary>
    private static readonly string[] InheritedSettingPrefixes =
    [
        "ASPNETCORE_", "DOTNET_ENVIRONMENT", "DOTNET_URLS", "Database__", "ConnectionStrings__", "Authentication__",
        "Encryption__", "Storage__", "Kestrel__", "Logging__", "URLS",
    ];

    private readonly Process _process;
    private readonly List<(bool IsError, string Line)> _lines = [];
    private readonly string _description;
    private bool _disposed;

    private PortalProcess(Process process, string description)
    {
        _process = process;
        _description = description;
    }

    /// <summary>The web host's entry assembly as the build copies it beside the test assembly.</summary>
    public static string BuiltWebDll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "GovernancePortal.Web.dll");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"GovernancePortal.Web.dll is not beside the test assembly in {AppContext.BaseDirectory}; does the test project still reference the web project?", path);
        }
    }

    /// <summary>The <c>dotnet</c> that runs these tests: the CLI's own when it started them, else the one beside the runtime.</summary>
    public static string DotnetExecutable { get; } = LocateDotnet();

    /// <summary>Where <see cref="StartServingAsync"/> made it listen.</summary>
    public Uri? BaseAddress { get; private set; }

    public string StandardOutput => Join(isError: false);

    public string StandardError => Join(isError: true);

    public IReadOnlyList<string> StandardErrorLines
    {
        get
        {
            lock (_lines)
                return _lines.Where(line => line.IsError).Select(line => line.Line).ToList();
        }
    }

    /// <summary>Everything known about the run, for a failure message.</summary>
    public string Transcript
    {
        get
        {
            var exit = _process.HasExited ? $"exited with code {_process.ExitCode}" : "still running";
            return $"{_description} {exit}.{Environment.NewLine}--- stdout ---{Environment.NewLine}{StandardOutput}{Environment.NewLine}--- stderr ---{Environment.NewLine}{StandardError}";
        }
    }

    /// <summary>
    /// Starts <paramref name="appDll"/> with <c>dotnet</c>, in its own folder (the content root, where its
    /// appsettings files are). Inherited portal settings are dropped so that only
    /// <paramref name="settings"/> (environment variable names, <c>__</c> for <c>:</c>) decide.
    /// </summary>
    public static PortalProcess Start(string appDll, IReadOnlyDictionary<string, string> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetExecutable)
        {
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(appDll);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (InheritedSettingPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                start.Environment.Remove(name);
        }
        foreach (var (name, value) in settings)
            start.Environment[name] = value;

        var description = $"dotnet {string.Join(' ', start.ArgumentList)} ({string.Join(", ", settings.Select(setting => $"{setting.Key}={setting.Value}"))})";
        var portal = new PortalProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, description);
        portal._process.OutputDataReceived += (_, e) => portal.Record(isError: false, e.Data);
        portal._process.ErrorDataReceived += (_, e) => portal.Record(isError: true, e.Data);
        portal._process.Start();
        portal._process.StandardInput.Close();
        portal._process.BeginOutputReadLine();
        portal._process.BeginErrorReadLine();
        return portal;
    }

    /// <summary>
    /// Starts the portal in Development on a free loopback port with <paramref name="dataFolder"/> as its
    /// data folder (so it migrates and seeds a database of its own) and returns once <c>/health/ready</c>
    /// answers 200.
    /// </summary>
    public static async Task<PortalProcess> StartServingAsync(string appDll, string dataFolder, TimeSpan readyWithin, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? moreSettings = null)
    {
        var address = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}");
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Storage__DataFolder"] = dataFolder,
        };
        foreach (var (name, value) in moreSettings ?? new Dictionary<string, string>())
            settings[name] = value;
        var portal = Start(appDll, settings, "--urls", address.ToString().TrimEnd('/'));
        portal.BaseAddress = address;
        try
        {
            await portal.WaitUntilReadyAsync(readyWithin, cancellationToken);
            return portal;
        }
        catch
        {
            await portal.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200; fails at once if the process ends first.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        var ready = new Uri(BaseAddress ?? throw new InvalidOperationException("No address to poll."), "/health/ready");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        var lastAnswer = "no answer yet";
        while (waited.Elapsed < within)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException($"The portal ended before {ready} answered 200.{Environment.NewLine}{Transcript}");
            }
            try
            {
                using var response = await http.GetAsync(ready, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
                lastAnswer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
            }
            catch (HttpRequestException exception)
            {
                lastAnswer = exception.Message;
            }
            catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                lastAnswer = exception.Message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        throw new TimeoutException($"{ready} did not answer 200 within {within.TotalSeconds:0} s (last: {lastAnswer}).{Environment.NewLine}{Transcript}");
    }

    /// <summary>Waits for the process to end by itself and returns its exit code; a process still running after <paramref name="within"/> is killed and the test fails.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(within);
        try
        {
            // Also waits for the end of both redirected streams, so the captured output is complete.
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"The process did not end within {within.TotalSeconds:0} s and was killed.{Environment.NewLine}{Transcript}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        Kill();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            // The kill was sent; a process that outlives it is the operating system's to reap.
        }
        _process.Dispose();
    }

    /// <summary>A port nobody listens on right now; the short window before the portal binds it is accepted.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended between the check and the kill.
        }
    }

    private void Record(bool isError, string? line)
    {
        if (line is null)
            return;
        lock (_lines)
            _lines.Add((isError, line));
    }

    private string Join(bool isError)
    {
        lock (_lines)
            return string.Join(Environment.NewLine, _lines.Where(line => line.IsError == isError).Select(line => line.Line));
    }

    private static string LocateDotnet()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
            return fromCli;
        // The runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        var runtime = new DirectoryInfo(RuntimeEnvironment.GetRuntimeDirectory());
        var root = runtime.Parent?.Parent?.Parent?.FullName;
        var beside = root is null ? null : Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return beside is not null && File.Exists(beside) ? beside : "dotnet";
    }
}
