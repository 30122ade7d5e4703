using System.Text.RegularExpressions;

namespace GovernancePortal.Web.Tests.Startup;

/// <summary>
/// The real web host, started as an operator starts it, with a setting missing or wrong: it must end
/// with exit code 1 and one line on standard error that names the problem, never a stack trace and
/// never a secret.
/// </summary>
public sealed partial class StartupGuardTests : IDisposable
{
    private const string ProblemPrefix = "Governance Portal cannot start: ";
    // Bounds a hang, not the speed: starting .NET on a busy machine and giving up on a database both take a while.
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);

    private readonly TemporaryFolder _dataFolder = new("startup-guard");

    [Fact]
    public async Task Production_WithoutOidcAndMasterKey_ExitsWithOneLineNamingEveryMissingSetting()
    {
        var (line, _) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        });

        Assert.Contains("Authentication:Oidc:Authority", line);
        Assert.Contains("Authentication:Oidc:ClientId", line);
        Assert.Contains("Encryption:MasterKey", line);
    }

    [Fact]
    public async Task Production_WithSeveralProblems_NamesEveryOneInTheOneLine()
    {
        var (line, _) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Authentication__Oidc__Authority"] = "https://idp.example.test/",
            ["Authentication__Oidc__RequireHttpsMetadata"] = "false",
            ["Authentication__RoleMap__Superuser"] = "root",
            ["Authentication__Session__IdleTimeout"] = "soon",
            ["Collection__RateLimit__RequestsPerSecond"] = "0",
            ["Demo__Seed"] = "maybe",
        });

        Assert.Contains("Authentication:Oidc:ClientId", line);
        Assert.Contains("Encryption:MasterKey", line);
        Assert.Contains("Authentication:Oidc:RequireHttpsMetadata may be false only in Development", line);
        Assert.Contains("Authentication:RoleMap:Superuser", line);
        Assert.Contains("Authentication:Session:IdleTimeout", line);
        Assert.Contains("Collection:RateLimit:RequestsPerSecond", line);
        Assert.Contains("Demo:Seed", line);
    }

    [Theory]
    [InlineData("Collection__BodyReadTimeoutSeconds", "fifteen", "Collection:BodyReadTimeoutSeconds")]
    [InlineData("Collection__FailedTokenLimit__PerMinute", "-1", "Collection:FailedTokenLimit:PerMinute")]
    [InlineData("Authentication__Session__RevalidationInterval", "00:00:00", "Authentication:Session:RevalidationInterval")]
    [InlineData("Grants__MaxDays", "ninety", "Grants:MaxDays")]
    [InlineData("Grants__ShowReaderNames", "maybe", "Grants:ShowReaderNames")]
    [InlineData("Jobs__PauseCheckCron", "every quarter hour", "Jobs:PauseCheckCron")]
    [InlineData("Retention__SweepCron", "hourly", "Retention:SweepCron")]
    [InlineData("Pauses__ReviewAfterDays", "0", "Pauses:ReviewAfterDays")]
    [InlineData("Erasure__BatchSize", "0", "Erasure:BatchSize")]
    [InlineData("Erasure__SweepCron", "quarter-hourly", "Erasure:SweepCron")]
    [InlineData("Encryption__MasterKey", "c2hvcnQ=", "Encryption:MasterKey")]
    public async Task Development_WithABadValue_ExitsWithOneLineNamingTheSetting(string variable, string value, string setting)
    {
        var (line, output) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            [variable] = value,
        });

        Assert.Contains(setting, line);
        Assert.DoesNotContain("Developer sign-in is ON", output);
    }

    [Fact]
    public async Task UnknownDatabaseProvider_ExitsWithOneLineNamingTheSetting()
    {
        var (line, _) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__Provider"] = "Oracle",
        });

        Assert.Contains("Database:Provider", line);
        Assert.Contains("Oracle", line);
    }

    [Fact]
    public async Task UnreachablePostgres_ExitsWithOneLineSayingWhereWithoutThePassword()
    {
        const string password = "secret-pw";
        var (line, output) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Portal"] = $"Host=127.0.0.1;Port=1;Database=x;Username=u;Password={password};Timeout=3",
            ["Authentication__DevSignIn__Enabled"] = "true",
        });

        Assert.Contains("is not available", line);
        Assert.Contains("127.0.0.1:1", line);
        Assert.DoesNotContain(password, output);
    }

    [Fact]
    public async Task Production_WithDeveloperSignInEnabled_ExitsWithOneLineNamingTheSetting()
    {
        var (line, _) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Authentication__Oidc__Authority"] = "https://idp.example.test/",
            ["Authentication__Oidc__ClientId"] = "governance-portal",
            ["Authentication__Oidc__ClientSecret"] = "not-used",
            ["Encryption__MasterKey"] = Convert.ToBase64String(new byte[32]),
            ["Authentication__DevSignIn__Enabled"] = "true",
        });

        Assert.Contains("Authentication:DevSignIn:Enabled may be true only in Development", line);
    }

    [Fact]
    public async Task Development_OnPostgresWithoutOidcOrDeveloperSignIn_ExitsSayingNobodyCouldSignIn()
    {
        var (line, _) = await RunToProblemAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Portal"] = "Host=127.0.0.1;Port=1;Database=x;Username=u;Password=p;Timeout=3",
        });

        Assert.Contains("Nobody could sign in", line);
    }

    [Fact]
    public async Task Development_EmbeddedDefault_SaysDeveloperSignInIsOn()
    {
        await using var portal = await PortalProcess.StartServingAsync(PortalProcess.BuiltWebDll, _dataFolder.Path, ExitWithin, TestContext.Current.CancellationToken);

        Assert.Contains("Developer sign-in is ON at /account/dev-sign-in", portal.Transcript);
    }

    public void Dispose() => _dataFolder.Dispose();

    /// <summary>
    /// Runs the host to its end; checks exit code 1, one line on standard error and no stack trace; returns
    /// that line and everything the host wrote.
    /// </summary>
    private async Task<(string Line, string Output)> RunToProblemAsync(Dictionary<string, string> settings)
    {
        settings["Storage__DataFolder"] = _dataFolder.Path;
        await using var portal = PortalProcess.Start(PortalProcess.BuiltWebDll, settings);
        var exitCode = await portal.WaitForExitAsync(ExitWithin, TestContext.Current.CancellationToken);

        Assert.True(exitCode == 1, $"Expected exit code 1.{Environment.NewLine}{portal.Transcript}");
        var errorLines = portal.StandardErrorLines;
        Assert.True(errorLines.Count == 1, $"Expected exactly one line on standard error.{Environment.NewLine}{portal.Transcript}");
        Assert.False(StackFrame().IsMatch(portal.StandardOutput + Environment.NewLine + portal.StandardError),
            $"Expected no stack trace.{Environment.NewLine}{portal.Transcript}");
        Assert.StartsWith(ProblemPrefix, errorLines[0]);
        return (errorLines[0], portal.StandardOutput + Environment.NewLine + portal.StandardError);
    }

    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
