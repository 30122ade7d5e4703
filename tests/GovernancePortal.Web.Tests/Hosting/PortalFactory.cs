using GovernancePortal.Demo;
using GovernancePortal.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GovernancePortal.Web.Tests.Hosting;

/// <summary>
/// The real portal host over a fresh <see cref="TestDatabase"/>, migrated and with the demo data
/// seeded before the host starts. (The host's own start-up migrates too, but seeds the demo data only
/// on SQLite; the tests want the demo users on PostgreSQL as well.) As a class fixture it is the
/// embedded default (SQLite, Development, developer sign-in); <see cref="For"/> makes one on another
/// engine, in another environment or with more settings.
/// </summary>
public class PortalFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Engine _engine;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _testServices;
    private TestDatabase? _database;

    public PortalFactory()
        : this(Engine.Sqlite)
    {
    }

    protected PortalFactory(Engine engine, IReadOnlyDictionary<string, string?>? settings = null, string? environment = null,
        Action<IServiceCollection>? testServices = null)
    {
        _engine = engine;
        _settings = settings ?? new Dictionary<string, string?>();
        _environment = environment ?? Environments.Development;
        _testServices = testServices;
    }

    /// <summary>
    /// A portal on <paramref name="engine"/>, with more settings, another environment, or services replaced
    /// after the host's own (for what lies outside the portal); call <see cref="InitializeAsync"/> before use.
    /// </summary>
    public static PortalFactory For(Engine engine, IReadOnlyDictionary<string, string?>? settings = null, string? environment = null,
        Action<IServiceCollection>? testServices = null) =>
        new(engine, settings, environment, testServices);

    public TestDatabase Database => _database ?? throw new InvalidOperationException("The portal's database is created by InitializeAsync.");

    public virtual async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(_engine);
        await _database.Get<DemoData>().SeedAsync();
    }

    /// <summary>A client that keeps cookies and does not follow redirects, so tests see each step.</summary>
    public HttpClient CreateBrowser(Uri? baseAddress = null) =>
        CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = true,
            BaseAddress = baseAddress ?? new Uri("http://localhost"),
        });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // UseSetting, not ConfigureAppConfiguration: the host reads these before builder.Build().
        // Developer sign-in exists by itself only on the embedded SQLite default; the tests sign in the
        // same way on PostgreSQL, so they ask for it explicitly, as a developer would.
        var devSignIn = new Dictionary<string, string?>();
        if (_engine == Engine.Postgres && _environment == Environments.Development && !_settings.ContainsKey("Authentication:Oidc:Authority"))
            devSignIn["Authentication:DevSignIn:Enabled"] = "true";
        // The periodic erasure sweep would otherwise fire whenever a run crosses a quarter hour; a test that
        // wants erasure gets it from the action that enqueues it, or runs the sweep itself.
        var rareSweep = new Dictionary<string, string?> { ["Erasure:SweepCron"] = "0 0 1 1 *" };
        foreach (var (key, value) in Database.Configuration.Concat(devSignIn).Concat(rareSweep.Where(s => !_settings.ContainsKey(s.Key))).Concat(_settings))
            builder.UseSetting(key, value);
        builder.UseSetting("Logging:LogLevel:Default", nameof(LogLevel.Warning));
        if (_testServices is not null)
            builder.ConfigureTestServices(_testServices);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
            await _database.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
