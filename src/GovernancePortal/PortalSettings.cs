using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal;

/// <summary>The settings every entry point (web host, gp, tests) needs before anything else can run.</summary>
public sealed record PortalSettings(DatabaseOptions Database, MasterKeyRing MasterKeys, string DataFolder)
{
    /// <summary>
    /// Reads the database and master key settings. <paramref name="embeddedDefaults"/> allows the
    /// SQLite file and the generated master key under the data folder; a bad or missing value is a
    /// <see cref="ConfigurationProblem"/> naming the setting.
    /// </summary>
    public static PortalSettings Load(IConfiguration configuration, string contentRoot, bool embeddedDefaults)
    {
        var dataFolder = ResolveDataFolder(configuration, contentRoot);
        var database = DatabaseOptions.FromConfiguration(configuration, dataFolder);
        var keys = MasterKeyRing.FromConfiguration(configuration, dataFolder, embeddedDefaults);
        return new PortalSettings(database, keys, dataFolder);
    }

    /// <summary>
    /// <c>Storage:DataFolder</c> when set; in a source checkout the <c>data/</c> folder at its top, so the
    /// web host and <c>gp</c> share one database; otherwise <c>data/</c> under the content root.
    /// </summary>
    public static string ResolveDataFolder(IConfiguration configuration, string contentRoot)
    {
        var configured = configuration["Storage:DataFolder"];
        if (!string.IsNullOrWhiteSpace(configured))
            return Path.GetFullPath(configured, contentRoot);
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GovernancePortal.sln")))
                return Path.Combine(dir.FullName, "data");
        }
        return Path.Combine(contentRoot, "data");
    }
}
