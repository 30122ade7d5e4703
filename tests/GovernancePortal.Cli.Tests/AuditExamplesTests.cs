namespace GovernancePortal.Cli.Tests;

/// <summary>
/// The signed example under docs/examples (docs/audit-log.md, "Example files"): gp audit verify accepts the export
/// and its manifest in both formats and the checkpoint, and rejects the tampered copy, so the examples never go stale.
/// </summary>
public sealed class AuditExamplesTests
{
    private static readonly string Examples = Path.Combine(RepositoryRoot(), "docs", "examples");

    [Theory]
    [InlineData("audit-2-5.csv")]
    [InlineData("audit-2-5.jsonl")]
    public async Task Examples_TheSignedExport_Verifies(string export)
    {
        var run = await GpAsync("audit", "verify", Example(export), "--manifest", Example(export + ".manifest.json"), "--public-key", Example("public-keys.pem"));

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.StartsWith("ok: 4 events, seq 2-5", run.Output);
        Assert.Contains("in the signed checkpoint of size 5", run.Output);
    }

    [Fact]
    public async Task Examples_TheTamperedCopy_IsRejected_AtItsEvent()
    {
        var run = await GpAsync("audit", "verify", Example("audit-2-5-tampered.csv"), "--manifest", Example("audit-2-5.csv.manifest.json"), "--public-key", Example("public-keys.pem"));

        Assert.Equal((1, "gp: the export does not verify: event 3: its fields do not hash to its hash (the event was altered)\n"), (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Examples_TheCheckpoint_Verifies()
    {
        var run = await GpAsync("audit", "verify-checkpoint", Example("checkpoint.txt"), "--public-key", Example("public-keys.pem"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
    }

    private static string Example(string name) => Path.Combine(Examples, name);

    private static async Task<(int ExitCode, string Output, string Error)> GpAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await GpCommand.RunAsync(args, output, error);
        return (exitCode, output.ToString().Replace("\r\n", "\n"), error.ToString().Replace("\r\n", "\n"));
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "GovernancePortal.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException("The tests run outside the repository: docs/examples cannot be found.");
    }
}
