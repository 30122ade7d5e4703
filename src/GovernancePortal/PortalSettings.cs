using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Retention;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal;

/// <summary>The settings every entry point (web host, gp, tests) needs before anything else can run.</summary>
public sealed record PortalSettings(DatabaseOptions Database, MasterKeyRing MasterKeys, string DataFolder, GrantOptions? Grants = null, RetentionOptions? Retention = null, AuditOptions? Audit = null)
{
    /// <summary>The grant rules in force: <see cref="Grants"/>, or their defaults.</summary>
    public GrantOptions GrantRules => Grants ?? GrantOptions.Default;

    /// <summary>The retention sweep's settings in force: <see cref="Retention"/>, or their defaults.</summary>
    public RetentionOptions RetentionRules => Retention ?? RetentionOptions.Default;

    /// <summary>The audit log's checkpoint and verification settings in force: <see cref="Audit"/>, or their defaults.</summary>
    public AuditOptions AuditRules => Audit ?? AuditOptions.Default;

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
