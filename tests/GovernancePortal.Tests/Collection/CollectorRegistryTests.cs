using System.Security.Cryptography;
using System.Text;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

public sealed class CollectorRegistryTests : DatabaseTests
{
    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private async Task<TestDatabase> StartAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        await db.Get<ProgramEditor>().RegisterAsync(new ProgramDraft("mci", "Model Capability Initiative", "Train models", "AI team", LegalBasis.Consent), Priya, Cancellation);
        await db.Get<ProgramEditor>().RegisterAsync(new ProgramDraft("endpoint-security", "Endpoint security", "Detect malware", "Security", LegalBasis.LegitimateInterest), Priya, Cancellation);
        return db;
    }

    private static async Task<IReadOnlyList<AuditEvent>> AuditAsync(TestDatabase db, string action)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == action).ToList();
    }

    [Fact]
    public void Generate_IsThePrefixAnd32RandomBytesInBase64Url()
    {
        var tokens = Enumerable.Range(0, 50).Select(_ => CollectorTokens.Generate()).ToList();

        Assert.All(tokens, token =>
        {
            Assert.StartsWith("gpc_", token);
            Assert.Equal(47, token.Length);
            Assert.Matches("^gpc_[A-Za-z0-9_-]{43}$", token);
            var base64 = token["gpc_".Length..].Replace('-', '+').Replace('_', '/') + "=";
            Assert.Equal(32, Convert.FromBase64String(base64).Length);
            Assert.True(CollectorTokens.LooksValid(token));
        });
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Create_ReturnsTheTokenOnce_AndTheDatabaseHoldsOnlyItsSha256(Engine engine)
    {
        await using var db = await StartAsync(engine);

        var (collector, token) = await db.Get<CollectorRegistry>().CreateAsync("mci", "Laptop agent", Priya, Cancellation);

        Assert.Matches("^gpc_[A-Za-z0-9_-]{43}$", token);
        await using var connection = await db.OpenAsync();
        var hash = await connection.ExecuteScalarAsync<byte[]>("SELECT token_hash FROM collectors WHERE id = @Id", new { collector.Id });
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), hash);
        var secret = token["gpc_".Length..];
        var texts = (await connection.QueryAsync<string>("SELECT name || ' ' || created_by FROM collectors"))
            .Concat(await connection.QueryAsync<string>("SELECT coalesce(detail, '') || ' ' || actor FROM audit_events"));
        Assert.All(texts, text => Assert.DoesNotContain(secret, text));
        if (engine == Engine.Sqlite)
        {
            // Every byte the database wrote, journal included: the token is nowhere, as text or as its bytes.
            await connection.CloseAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearPool(new Microsoft.Data.Sqlite.SqliteConnection(db.ConnectionString));
            var files = Directory.GetFiles(db.Folder, "portal.db*");
            Assert.NotEmpty(files);
            foreach (var file in files)
                Assert.DoesNotContain(secret, Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file, Cancellation)));
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Create_AuditsWhoCreatedWhichCollector_WithoutTheToken(Engine engine)
    {
        await using var db = await StartAsync(engine);

        var (collector, token) = await db.Get<CollectorRegistry>().CreateAsync("mci", "  Meeting bot  ", Priya, Cancellation);

        Assert.Equal("Meeting bot", collector.Name);
        Assert.Equal(Priya.Name, collector.CreatedBy);
        Assert.Equal(SampleData.Epoch, collector.CreatedAt);
        Assert.Null(collector.LastSeenAt);
        Assert.Equal(0, collector.RecordsAccepted);
        Assert.Null(collector.RevokedAt);
        var created = Assert.Single(await AuditAsync(db, "collector.created"));
        Assert.Equal((Priya.Name, "mci"), (created.Actor, created.Program));
        Assert.Contains("Meeting bot", created.Detail);
        Assert.Contains(collector.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), created.Detail);
        Assert.DoesNotContain(token, created.Detail);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Authenticate_TheToken_IsItsCollectorAndProgram(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (mciAgent, mciToken) = await registry.CreateAsync("mci", "Laptop agent", Priya, Cancellation);
        var (edrAgent, edrToken) = await registry.CreateAsync("endpoint-security", "EDR", Priya, Cancellation);

        var mci = await registry.AuthenticateAsync(mciToken, Cancellation);
        var edr = await registry.AuthenticateAsync(edrToken, Cancellation);

        Assert.Equal(new CollectorIdentity(mciAgent.Id, mciAgent.ProgramId, "mci"), mci);
        Assert.Equal(new CollectorIdentity(edrAgent.Id, edrAgent.ProgramId, "endpoint-security"), edr);
        Assert.NotEqual(mci!.ProgramId, edr!.ProgramId);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Authenticate_AWellFormedTokenNobodyWasGiven_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (_, token) = await registry.CreateAsync("mci", "Laptop agent", Priya, Cancellation);
        var lastCharacterChanged = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        Assert.Null(await registry.AuthenticateAsync(CollectorTokens.Generate(), Cancellation));
        Assert.Null(await registry.AuthenticateAsync(lastCharacterChanged, Cancellation));
    }

    public static TheoryData<string> MalformedTokens => new()
    {
        "",
        "gpc_",
        "Bearer gpc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gpx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "GPC_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gpc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "gpc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "' OR 1=1 --",
    };

    [Theory, MemberData(nameof(MalformedTokens))]
    public async Task Authenticate_AMalformedToken_IsRefused(string token)
    {
        await using var db = await StartAsync(Engine.Sqlite);
        await db.Get<CollectorRegistry>().CreateAsync("mci", "Laptop agent", Priya, Cancellation);

        Assert.Null(await db.Get<CollectorRegistry>().AuthenticateAsync(token, Cancellation));
    }

    [Fact]
    public async Task Authenticate_NoToken_IsRefused()
    {
        await using var db = await StartAsync(Engine.Sqlite);

        Assert.Null(await db.Get<CollectorRegistry>().AuthenticateAsync(null, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Revoke_TheTokenStopsWorkingAtOnce_AndTheRevocationIsAudited(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (collector, token) = await registry.CreateAsync("mci", "Laptop agent", Priya, Cancellation);
        var (_, otherToken) = await registry.CreateAsync("mci", "Meeting bot", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromHours(2));

        await registry.RevokeAsync("mci", collector.Id, Omar, Cancellation);

        Assert.Null(await registry.AuthenticateAsync(token, Cancellation));
        Assert.NotNull(await registry.AuthenticateAsync(otherToken, Cancellation));
        var listed = (await registry.ListAsync("mci", Cancellation)).Single(c => c.Id == collector.Id);
        Assert.Equal((SampleData.Epoch.AddHours(2), Omar.Name), (listed.RevokedAt, listed.RevokedBy));
        var revoked = Assert.Single(await AuditAsync(db, "collector.revoked"));
        Assert.Equal((Omar.Name, "mci"), (revoked.Actor, revoked.Program));
        Assert.Contains("Laptop agent", revoked.Detail);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Revoke_Twice_ChangesNothingTheSecondTime(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (collector, _) = await registry.CreateAsync("mci", "Laptop agent", Priya, Cancellation);
        await registry.RevokeAsync("mci", collector.Id, Omar, Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));

        await registry.RevokeAsync("mci", collector.Id, Priya, Cancellation);

        var listed = Assert.Single(await registry.ListAsync("mci", Cancellation));
        Assert.Equal((SampleData.Epoch, Omar.Name), (listed.RevokedAt, listed.RevokedBy));
        Assert.Single(await AuditAsync(db, "collector.revoked"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Revoke_ACollectorOfAnotherProgram_IsNotFoundAndKeepsItWorking(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (edr, token) = await registry.CreateAsync("endpoint-security", "EDR", Priya, Cancellation);

        await Assert.ThrowsAsync<NotFoundProblem>(() => registry.RevokeAsync("mci", edr.Id, Omar, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => registry.RevokeAsync("mci", edr.Id + 100, Omar, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => registry.RevokeAsync("no-such-program", edr.Id, Omar, Cancellation));

        Assert.NotNull(await registry.AuthenticateAsync(token, Cancellation));
        Assert.Empty(await AuditAsync(db, "collector.revoked"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("    ")]
    [InlineData(null)]
    public async Task Create_WithoutAName_IsRefusedNamingTheField(string? name)
    {
        await using var db = await StartAsync(Engine.Sqlite);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => db.Get<CollectorRegistry>().CreateAsync("mci", name!, Priya, Cancellation));

        Assert.Equal("name", refused.Field);
        Assert.Contains("name", refused.Message);
        Assert.Empty(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Create_NameLongerThan100Characters_IsRefused_And100AreFine(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => registry.CreateAsync("mci", new string('n', CollectorRegistry.MaxNameLength + 1), Priya, Cancellation));
        var (longest, _) = await registry.CreateAsync("mci", new string('n', CollectorRegistry.MaxNameLength), Priya, Cancellation);

        Assert.Equal("name", refused.Field);
        Assert.Contains("100", refused.Message);
        Assert.Equal(CollectorRegistry.MaxNameLength, longest.Name.Length);
        Assert.Single(await registry.ListAsync("mci", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Create_ForAnUnknownOrRetiredProgram_IsRefused(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        await db.Get<ProgramEditor>().RetireAsync("endpoint-security", Priya, Cancellation);

        await Assert.ThrowsAsync<NotFoundProblem>(() => registry.CreateAsync("no-such-program", "agent", Priya, Cancellation));
        var retired = await Assert.ThrowsAsync<RuleViolation>(() => registry.CreateAsync("endpoint-security", "agent", Priya, Cancellation));

        Assert.Contains("retired", retired.Message);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM collectors"));
        Assert.Empty(await AuditAsync(db, "collector.created"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task List_ShowsEachCollectorOfTheProgramNewestFirst_WithItsUse(Engine engine)
    {
        await using var db = await StartAsync(engine);
        var registry = db.Get<CollectorRegistry>();
        var (agent, _) = await registry.CreateAsync("mci", "Laptop agent", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (bot, _) = await registry.CreateAsync("mci", "Meeting bot", Omar, Cancellation);
        await registry.CreateAsync("endpoint-security", "EDR", Priya, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(1));

        await registry.RecordUseAsync(agent.Id, 40, Cancellation);
        await registry.RecordUseAsync(agent.Id, 2, Cancellation);

        var listed = await registry.ListAsync("mci", Cancellation);
        Assert.Equal([bot.Id, agent.Id], listed.Select(c => c.Id));
        Assert.Equal(("Meeting bot", Omar.Name, 0L, (DateTimeOffset?)null), (listed[0].Name, listed[0].CreatedBy, listed[0].RecordsAccepted, listed[0].LastSeenAt));
        Assert.Equal(("Laptop agent", Priya.Name, 42L, (DateTimeOffset?)SampleData.Epoch.AddMinutes(2)), (listed[1].Name, listed[1].CreatedBy, listed[1].RecordsAccepted, listed[1].LastSeenAt));
    }
}
