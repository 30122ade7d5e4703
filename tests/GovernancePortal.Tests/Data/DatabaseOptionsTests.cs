using GovernancePortal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal.Tests.Data;

public sealed class DatabaseOptionsTests : IDisposable
{
    private readonly string _dataFolder = Path.Combine(Path.GetTempPath(), $"gp-options-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataFolder))
            Directory.Delete(_dataFolder, recursive: true);
    }

    private DatabaseOptions Read(params (string Key, string Value)[] values) =>
        DatabaseOptions.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build(),
            _dataFolder);

    [Theory]
    [InlineData("Oracle")]
    [InlineData("SqlServer")]
    [InlineData("42")]
    public void Provider_Unknown_NamesTheSetting(string provider)
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => Read(("Database:Provider", provider)));

        Assert.Contains("Database:Provider", problem.Message);
        Assert.Contains(provider, problem.Message);
    }

    [Fact]
    public void Postgres_WithoutConnectionString_NamesConnectionStringsPortal()
    {
        var problem = Assert.Throws<ConfigurationProblem>(() => Read(("Database:Provider", "Postgres")));

        Assert.Contains("ConnectionStrings:Portal", problem.Message);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("POSTGRES")]
    public void Provider_AnyCase_IsAccepted(string provider)
    {
        var options = Read(("Database:Provider", provider), ("ConnectionStrings:Portal", "Host=db;Database=portal"));

        Assert.Equal(new DatabaseOptions(DatabaseProvider.Postgres, "Host=db;Database=portal"), options);
    }

    [Fact]
    public void Nothing_Configured_IsSqliteUnderTheDataFolder()
    {
        var options = Read();

        Assert.Equal(DatabaseProvider.Sqlite, options.Provider);
        Assert.Equal(Path.Combine(_dataFolder, "portal.db"), new SqliteConnectionStringBuilder(options.ConnectionString).DataSource);
        Assert.True(Directory.Exists(_dataFolder));
    }

    [Fact]
    public void Sqlite_RelativeFile_IsAnchoredInTheDataFolder()
    {
        var options = Read(("Database:Provider", "Sqlite"), ("ConnectionStrings:Portal", "Data Source=sub/other.db;Cache=Shared"));

        var builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        Assert.Equal(Path.Combine(_dataFolder, "sub", "other.db"), builder.DataSource);
        Assert.Equal(SqliteCacheMode.Shared, builder.Cache);
    }
}
