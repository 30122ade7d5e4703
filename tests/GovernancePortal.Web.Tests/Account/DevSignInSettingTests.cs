using GovernancePortal.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>Developer sign-in signs anyone in as anyone: it exists only where nothing real can be reached through it.</summary>
public sealed class DevSignInSettingTests
{
    [Theory]
    [InlineData("Development", null, null, null, true)]
    [InlineData("Development", "Sqlite", null, null, true)]
    [InlineData("Development", "Postgres", null, null, false)]
    [InlineData("Development", "Postgres", null, "true", true)]
    [InlineData("Development", null, "https://idp.example.test/", null, false)]
    [InlineData("Development", null, "https://idp.example.test/", "true", true)]
    [InlineData("Development", null, null, "false", false)]
    [InlineData("Production", null, null, null, false)]
    [InlineData("Staging", null, null, null, false)]
    [InlineData("Production", null, "https://idp.example.test/", "false", false)]
    public void DevSignIn_IsOnOnlyForTheEmbeddedDefaultOrWhenAskedForInDevelopment(
        string environment, string? provider, string? authority, string? enabled, bool expected)
    {
        var configuration = Configuration(provider, authority, enabled);

        Assert.Equal(expected, PortalOptions.DevSignInEnabled(configuration, new Environment(environment).IsDevelopment()));
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void DevSignIn_EnabledOutsideDevelopment_IsAConfigurationProblem(string environment)
    {
        var problem = Assert.Throws<ConfigurationProblem>(() =>
            PortalOptions.DevSignInEnabled(Configuration(null, "https://idp.example.test/", "true"), new Environment(environment).IsDevelopment()));

        Assert.Contains("Authentication:DevSignIn:Enabled", problem.Message);
    }

    [Fact]
    public void DevSignIn_SettingThatIsNotABoolean_IsAConfigurationProblem() =>
        Assert.Throws<ConfigurationProblem>(() => PortalOptions.DevSignInEnabled(Configuration(null, null, "yes"), new Environment("Development").IsDevelopment()));

    private static IConfiguration Configuration(string? provider, string? authority, string? enabled) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["Authentication:Oidc:Authority"] = authority,
            ["Authentication:DevSignIn:Enabled"] = enabled,
        }).Build();

    private sealed class Environment(string name) : IWebHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "GovernancePortal.Web";
        public string WebRootPath { get; set; } = "";
        public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();
        public string ContentRootPath { get; set; } = "";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
