using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal.Tests.Crypto;

public sealed class MasterKeyTests
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Parse_NotBase64_NamesTheSetting()
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => MasterKey.Parse("not base64 at all!", "Encryption:MasterKey"));

        Assert.Contains("Encryption:MasterKey", problem.Message);
        Assert.Contains("base64", problem.Message);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Parse_WrongLength_NamesTheSettingAndTheLength(int length)
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => MasterKey.Parse(Convert.ToBase64String(new byte[length]), "Encryption:MasterKey"));

        Assert.Contains("Encryption:MasterKey", problem.Message);
        Assert.Contains("32 bytes", problem.Message);
        Assert.Contains(length.ToString(), problem.Message);
    }

    [Fact]
    public void Parse_ItsOwnBase64_IsTheSameKey()
    {
        var key = MasterKey.Generate();

        var parsed = MasterKey.Parse(key.ToBase64(), "test");

        Assert.Equal(key.Id, parsed.Id);
        Assert.Equal(16, key.Id.Length);
        Assert.NotEqual(key.Id, MasterKey.Generate().Id);
    }

    [Fact]
    public void FromConfiguration_BadRetiredKey_NamesRetiredMasterKeys()
    {
        var configuration = Configuration(("Encryption:MasterKey", MasterKey.Generate().ToBase64()), ("Encryption:RetiredMasterKeys", "c2hvcnQ="));

        var problem = Assert.Throws<ConfigurationProblem>(() => MasterKeyRing.FromConfiguration(configuration, Path.GetTempPath(), allowGeneratedKey: false));

        Assert.Contains("Encryption:RetiredMasterKeys", problem.Message);
    }

    [Fact]
    public void FromConfiguration_NoKeyOutsideTheEmbeddedDefault_NamesTheSetting()
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => MasterKeyRing.FromConfiguration(Configuration(), Path.GetTempPath(), allowGeneratedKey: false));

        Assert.Contains("Encryption:MasterKey", problem.Message);
    }

    [Fact]
    public void FromConfiguration_CurrentAndRetiredKeys_UnwrapsWithEither()
    {
        var current = MasterKey.Generate();
        var retired = MasterKey.Generate();
        var configuration = Configuration(("Encryption:MasterKey", current.ToBase64()), ("Encryption:RetiredMasterKeys", $" {retired.ToBase64()} , {current.ToBase64()}"));

        var ring = MasterKeyRing.FromConfiguration(configuration, Path.GetTempPath(), allowGeneratedKey: false);

        Assert.Equal(current.Id, ring.Current.Id);
        Assert.Equal([retired.Id], ring.Retired.Select(key => key.Id));
        Assert.Same(ring.Retired[0], ring.Find(retired.Id));
        Assert.Null(ring.KeyFile);
        var unknown = Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => ring.Find(MasterKey.Generate().Id));
        Assert.Contains("Encryption:RetiredMasterKeys", unknown.Message);
    }
}
