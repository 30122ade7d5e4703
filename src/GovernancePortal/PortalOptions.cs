using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Erasure;
using GovernancePortal.Jobs;
using GovernancePortal.Retention;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal;

/// <summary>
/// Every setting of the portal (README, "Production configuration"), read and checked once at start-up
/// by the web host and by <c>gp</c>. Nothing else reads configuration. Every problem found is collected
/// and reported together in one <see cref="ConfigurationProblem"/>, so an operator fixes them in one go.
/// </summary>
public sealed record PortalOptions(
    DatabaseOptions Database,
    StorageOptions Storage,
    EncryptionOptions Encryption,
    DemoOptions Demo,
    AuthenticationOptions Authentication,
    CollectionOptions Collection,
    GrantOptions Grants,
    RetentionOptions Retention,
    JobsOptions Jobs,
    PauseOptions Pauses,
    AuditOptions Audit,
    ErasureOptions Erasure)
{
    /// <summary>What the library needs (<see cref="PortalServices.AddPortalCore"/>).</summary>
    public PortalSettings Settings => new(Database, Encryption.MasterKeys, Storage.DataFolder, Grants, Retention, Pauses, Audit, Erasure);

    /// <summary>
    /// The web host's settings. Outside Development, OpenID Connect and a master key are required,
    /// developer sign-in and plain-HTTP provider metadata are refused, and someone must be able to sign in.
    /// In Development the embedded default may generate its master key under the data folder.
    /// </summary>
    public static PortalOptions ForWebHost(IConfiguration configuration, string contentRoot, bool development) =>
        Read(configuration, contentRoot, allowGeneratedKey: development, webDevelopment: development);

    /// <summary>
    /// The settings of <c>gp</c>, from the same configuration: the key file under the data folder is allowed
    /// on SQLite only, and the rules about signing in, which only the web host applies, are not checked.
    /// </summary>
    public static PortalOptions ForCli(IConfiguration configuration, string workingFolder)
    {
        var provider = configuration["Database:Provider"];
        var embedded = string.IsNullOrWhiteSpace(provider) || provider.Equals(nameof(DatabaseProvider.Sqlite), StringComparison.OrdinalIgnoreCase);
        return Read(configuration, workingFolder, allowGeneratedKey: embedded, webDevelopment: null);
    }

    /// <summary>
    /// Whether developer sign-in is on: only for the embedded default (SQLite, Development, no OpenID Connect
    /// authority), or in Development when <c>Authentication:DevSignIn:Enabled</c> says so explicitly.
    /// </summary>
    public static bool DevSignInEnabled(IConfiguration configuration, bool development)
    {
        var reader = new SettingsReader(configuration);
        var enabled = ReadDevSignIn(reader, development, OidcOptions.Read(reader).Configured);
        reader.ThrowIfAny();
        return enabled;
    }

    private static PortalOptions Read(IConfiguration configuration, string contentRoot, bool allowGeneratedKey, bool? webDevelopment)
    {
        var reader = new SettingsReader(configuration);
        var development = webDevelopment ?? false;
        if (webDevelopment == false)
        {
            string[] required = ["Authentication:Oidc:Authority", "Authentication:Oidc:ClientId", "Encryption:MasterKey"];
            var missing = required.Where(key => reader.Text(key) is null).ToList();
            if (missing.Count > 0)
                reader.Problem($"outside Development the portal needs OpenID Connect sign-in and a master key; set {string.Join(", ", missing)}.");
        }

        var storage = new StorageOptions(PortalSettings.ResolveDataFolder(configuration, contentRoot));
        var database = reader.Attempt(() => DatabaseOptions.FromConfiguration(configuration, storage.DataFolder));
        var keyConfigured = reader.Text("Encryption:MasterKey") is not null;
        // Checked now only when it reads nothing from disk; the key file is opened (or created) once all else is right.
        var keys = keyConfigured || (!allowGeneratedKey && webDevelopment is null)
            ? reader.Attempt(() => MasterKeyRing.FromConfiguration(configuration, storage.DataFolder, allowGeneratedKey: false))
            : null;
        var demo = new DemoOptions(reader.Flag("Demo:Seed", true));
        var oidc = OidcOptions.Read(reader);
        if (!oidc.RequireHttpsMetadata && webDevelopment == false)
            reader.Problem("Authentication:Oidc:RequireHttpsMetadata may be false only in Development.");
        var devSignIn = webDevelopment is null ? false : ReadDevSignIn(reader, development, oidc.Configured);
        // Outside Development a missing authority is already named above.
        if (webDevelopment == true && !oidc.Configured && !devSignIn)
            reader.Problem("Nobody could sign in: set Authentication:Oidc:Authority, or in Development Authentication:DevSignIn:Enabled=true.");
        var authentication = new AuthenticationOptions(oidc, reader.Attempt(() => ReadRoleMap(configuration)) ?? new RoleMap(new Dictionary<string, IReadOnlyList<string>>()),
            ReadSession(reader), new DevSignInOptions(devSignIn));
        var collection = new CollectionOptions(
            new CollectionRateLimit(reader.Count("Collection:RateLimit:RequestsPerSecond", 20), reader.Count("Collection:RateLimit:Burst", 40)),
            new FailedTokenLimit(reader.Count("Collection:FailedTokenLimit:PerMinute", 10), reader.Count("Collection:FailedTokenLimit:Burst", 20)),
            TimeSpan.FromSeconds(reader.Count("Collection:BodyReadTimeoutSeconds", 15)));
        var grants = new GrantOptions(reader.Count("Grants:MaxDays", GrantOptions.Default.MaxDays), reader.Flag("Grants:ShowReaderNames", false));
        var jobs = ReadJobs(reader);
        var retention = new RetentionOptions(jobs.RetentionSweepCron, reader.Count("Retention:BatchSize", RetentionOptions.Default.BatchSize));
        var pauses = new PauseOptions(reader.Count("Pauses:ReviewAfterDays", PauseOptions.Default.ReviewAfterDays));
        var audit = ReadAudit(reader);
        var erasure = new ErasureOptions(reader.Cron("Erasure:SweepCron", ErasureOptions.Default.SweepCron), reader.Count("Erasure:BatchSize", ErasureOptions.Default.BatchSize));

        reader.ThrowIfAny();
        keys ??= MasterKeyRing.FromConfiguration(configuration, storage.DataFolder, allowGeneratedKey);
        return new PortalOptions(database!, storage, new EncryptionOptions(keys), demo, authentication, collection, grants, retention, jobs, pauses, audit, erasure);
    }

    /// <summary><c>Audit:…</c>: the checkpoints' origin and interval, and the checkpoint and verification jobs' crons.</summary>
    private static AuditOptions ReadAudit(SettingsReader reader)
    {
        var origin = reader.Text("Audit:Origin") ?? AuditOptions.Default.Origin;
        if (!AuditOptions.IsValidOrigin(origin))
            reader.Problem($"Audit:Origin must be one word of printable ASCII without '+' (at most 200 characters), such as governance-portal/example.com, not '{origin}'.");
        return new AuditOptions(origin, reader.Count("Audit:CheckpointEvery", AuditOptions.Default.CheckpointEvery),
            reader.Cron("Audit:CheckpointCron", AuditOptions.Default.CheckpointCron), reader.Cron("Audit:VerifyCron", AuditOptions.Default.VerifyCron));
    }

    /// <summary>
    /// <c>Jobs:…Cron</c>, each checked for the shape of a cron expression. <c>Retention:SweepCron</c>, the
    /// retention sweep's earlier setting, still counts when <c>Jobs:RetentionSweepCron</c> is not set; both
    /// set to different schedules is refused rather than one silently winning.
    /// </summary>
    private static JobsOptions ReadJobs(SettingsReader reader)
    {

        var legacy = reader.Cron("Retention:SweepCron", JobsOptions.Default.RetentionSweepCron);
        var retention = reader.Cron("Jobs:RetentionSweepCron", legacy);
        if (reader.Text("Retention:SweepCron") is not null && reader.Text("Jobs:RetentionSweepCron") is not null && retention != legacy)
            reader.Problem("Jobs:RetentionSweepCron and its earlier name Retention:SweepCron name different schedules; keep only Jobs:RetentionSweepCron.");
        return new JobsOptions(
            reader.Cron("Jobs:StoredAnswerPurgeCron", JobsOptions.Default.StoredAnswerPurgeCron),
            retention,
            reader.Cron("Jobs:PauseCheckCron", JobsOptions.Default.PauseCheckCron),
            reader.Cron("Jobs:GrantExpiryCron", JobsOptions.Default.GrantExpiryCron),
            reader.Cron("Jobs:RequestDeadlinesCron", JobsOptions.Default.RequestDeadlinesCron));
    }

    private static bool ReadDevSignIn(SettingsReader reader, bool development, bool oidcConfigured)
    {
        const string key = "Authentication:DevSignIn:Enabled";
        if (reader.Text(key) is { } setting)
        {
            if (!bool.TryParse(setting, out var enabled))
            {
                reader.Problem($"{key} must be true or false.");
                return false;
            }
            if (enabled && !development)
                reader.Problem($"{key} may be true only in Development.");
            return enabled;
        }
        var embedded = !string.Equals(reader.Text("Database:Provider"), nameof(DatabaseProvider.Postgres), StringComparison.OrdinalIgnoreCase);
        return development && embedded && !oidcConfigured;
    }

    /// <summary><c>Authentication:RoleMap:&lt;Role&gt;</c>: a list, or a comma-separated string.</summary>
    private static RoleMap ReadRoleMap(IConfiguration configuration)
    {
        var map = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var role in configuration.GetSection("Authentication:RoleMap").GetChildren())
        {
            map[role.Key] = role.Value is { } single
                ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : role.GetChildren().Select(child => child.Value).OfType<string>().ToArray();
        }
        return new RoleMap(map);
    }

    private static SessionSettings ReadSession(SettingsReader reader) => new(
        reader.Duration("Authentication:Session:IdleTimeout", TimeSpan.FromHours(8)),
        reader.Duration("Authentication:Session:AbsoluteLifetime", TimeSpan.FromHours(12)),
        reader.Duration("Authentication:Session:RevalidationInterval", TimeSpan.FromMinutes(1)));
}

/// <summary><c>Storage:DataFolder</c>, resolved (<see cref="PortalSettings.ResolveDataFolder"/>).</summary>
public sealed record StorageOptions(string DataFolder);

/// <summary><c>Encryption:MasterKey</c> and <c>Encryption:RetiredMasterKeys</c>, or the embedded key file.</summary>
public sealed record EncryptionOptions(MasterKeyRing MasterKeys);

/// <summary><c>Demo:Seed</c>: whether the embedded default loads the demo data (once).</summary>
public sealed record DemoOptions(bool Seed);

public sealed record AuthenticationOptions(OidcOptions Oidc, RoleMap RoleMap, SessionSettings Session, DevSignInOptions DevSignIn);

/// <summary><c>Authentication:DevSignIn</c>, decided: whether the developer sign-in page exists.</summary>
public sealed record DevSignInOptions(bool Enabled);

/// <summary><c>Authentication:Oidc</c>; sign-in is by OpenID Connect exactly when an authority is set.</summary>
public sealed record OidcOptions(
    string? Authority, string? ClientId, string? ClientSecret, string RoleClaimType, IReadOnlyList<string> Scopes,
    bool RequireHttpsMetadata, bool EmailsAreVerified)
{
    public bool Configured => Authority is not null;

    internal static OidcOptions Read(SettingsReader reader) => new(
        reader.Text("Authentication:Oidc:Authority"),
        reader.Raw("Authentication:Oidc:ClientId"),
        reader.Raw("Authentication:Oidc:ClientSecret"),
        reader.Raw("Authentication:Oidc:RoleClaimType") is { Length: > 0 } claim ? claim : "roles",
        (reader.Raw("Authentication:Oidc:Scopes") ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        reader.Flag("Authentication:Oidc:RequireHttpsMetadata", true),
        reader.Flag("Authentication:Oidc:EmailsAreVerified", false));
}

/// <summary>
/// <c>Authentication:Session:IdleTimeout</c> (default 8 h, renewed while the person uses the portal),
/// <c>AbsoluteLifetime</c> (default 12 h from sign-in, never renewed) and <c>RevalidationInterval</c>
/// (default 1 min: how soon an open page notices that its session ended).
/// </summary>
public sealed record SessionSettings(TimeSpan IdleTimeout, TimeSpan AbsoluteLifetime, TimeSpan RevalidationInterval);

/// <summary>
/// <c>Grants:MaxDays</c> (default 90): how far ahead a grant asked for may end; <c>Grants:ShowReaderNames</c>
/// (default false): whether an employee's "Who can read my data now" names the readers, or only their role.
/// </summary>
public sealed record GrantOptions(int MaxDays, bool ShowReaderNames)
{
    public static readonly GrantOptions Default = new(90, false);
}

/// <summary><c>Collection:…</c>: the limits of the collection API.</summary>
public sealed record CollectionOptions(CollectionRateLimit RateLimit, FailedTokenLimit FailedTokenLimit, TimeSpan BodyReadTimeout);

/// <summary><c>Collection:RateLimit</c>: requests a collector may send, per second and at once.</summary>
public sealed record CollectionRateLimit(int RequestsPerSecond, int Burst);

/// <summary><c>Collection:FailedTokenLimit</c>: bad tokens a client address may present, at once and then per minute.</summary>
public sealed record FailedTokenLimit(int PerMinute, int Burst);

/// <summary>Reads settings by their documented names, collecting a problem for each bad value instead of stopping at the first.</summary>
internal sealed class SettingsReader(IConfiguration configuration)
{
    private readonly List<string> _problems = [];

    public void Problem(string problem) => _problems.Add(problem);

    public string? Raw(string key) => configuration[key];

    /// <summary>The value, or null when it is missing or blank.</summary>
    public string? Text(string key) => configuration[key] is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>A cron expression of five fields, checked for its shape; the fallback when missing.</summary>
    public string Cron(string key, string fallback)
    {
        if (Text(key) is not { } text)
            return fallback;
        if (JobsOptions.LooksLikeCron(text.Trim()))
            return text.Trim();
        Problem($"{key} must be a cron expression such as '0 * * * *' (five fields: minute hour day month weekday), not '{text}'.");
        return fallback;
    }

    public bool Flag(string key, bool fallback)
    {
        if (Text(key) is not { } text)
            return fallback;
        if (bool.TryParse(text, out var value))
            return value;
        Problem($"{key} must be true or false, not '{text}'.");
        return fallback;
    }

    public int Count(string key, int fallback)
    {
        if (Text(key) is not { } text)
            return fallback;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 1)
            return value;
        Problem($"{key} must be a whole number of at least 1, not '{text}'.");
        return fallback;
    }

    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        if (Text(key) is not { } text)
            return fallback;
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero)
            return value;
        Problem($"{key} must be a positive time such as 08:00:00, not '{text}'.");
        return fallback;
    }

    /// <summary>Runs a section's own reader; its <see cref="ConfigurationProblem"/> is collected, and the result is then null.</summary>
    public T? Attempt<T>(Func<T> read) where T : class
    {
        try
        {
            return read();
        }
        catch (ConfigurationProblem problem)
        {
            Problem(problem.Message);
            return null;
        }
    }

    public void ThrowIfAny()
    {
        if (_problems.Count > 0)
            throw new ConfigurationProblem(string.Join(" ", _problems));
    }
}
