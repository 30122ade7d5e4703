using System.Diagnostics;
using System.Reflection;

namespace GovernancePortal.Web.Tests.Startup;

/// <summary>
/// <c>dotnet publish</c> of the web project into a temporary folder, once for all tests that need it.
/// It publishes the build this test run was made from (<c>--no-build</c>, same configuration): what
/// is under test is what publishing packs and how the packed app runs, not a second compilation.
/// </summary>
public sealed class PublishedPortal : IAsyncLifetime
{
    private static readonly TimeSpan PublishWithin = TimeSpan.FromMinutes(3);

    private readonly TemporaryFolder _folder = new("publish");

    public string Folder => _folder.Path;

    public string AppDll => Path.Combine(Folder, "GovernancePortal.Web.dll");

    /// <summary>The top of the source checkout these tests were built from.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public async ValueTask InitializeAsync()
    {
        var configuration = typeof(PublishedPortal).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var project = Path.Combine(RepositoryRoot, "src", "GovernancePortal.Web", "GovernancePortal.Web.csproj");
        var start = new ProcessStartInfo(PortalProcess.DotnetExecutable)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "publish", project, "--configuration", configuration, "--no-build", "--output", Folder, "--disable-build-servers", "-nologo" })
            start.ArgumentList.Add(argument);

        using var publish = Process.Start(start)!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var error = publish.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PublishWithin);
        try
        {
            await publish.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            publish.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish did not finish within {PublishWithin.TotalMinutes:0} min.");
        }
        if (publish.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish failed with exit code {publish.ExitCode}:{Environment.NewLine}{await output}{Environment.NewLine}{await error}");
    }

    public ValueTask DisposeAsync()
    {
        _folder.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GovernancePortal.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No GovernancePortal.sln above {AppContext.BaseDirectory}; these tests run from a build inside the source checkout.");
    }
}
