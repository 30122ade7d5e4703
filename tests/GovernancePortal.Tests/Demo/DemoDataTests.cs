using System.Text.Json;
using Dapper;
using GovernancePortal.Demo;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Demo;

/// <summary>One seeded database per engine, shared by the tests of this class, which only read it.</summary>
public sealed class SeededDemoDatabases : IAsyncDisposable
{
    private readonly Dictionary<Engine, Task<TestDatabase>> _databases = [];
    private readonly Lock _lock = new();

    public Task<TestDatabase> ForAsync(Engine engine)
    {
        lock (_lock)
        {
            if (!_databases.TryGetValue(engine, out var database) || database.IsFaulted)
                _databases[engine] = database = SeedAsync(engine);
            return database;
        }
    }

    private static async Task<TestDatabase> SeedAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine);
        if (!await db.Get<DemoData>().SeedAsync())
            throw new InvalidOperationException("A fresh database already had demo data.");
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases.Values.Where(task => task.IsCompletedSuccessfully))
            await (await database).DisposeAsync();
    }
}

public sealed class DemoDataTests(SeededDemoDatabases seeded) : DatabaseTests, IClassFixture<SeededDemoDatabases>
{
    private static readonly string[] Tables = ["programs", "categories", "subjects", "grants", "grant_categories", "data_keys", "records", "audit_events"];

    private static async Task<Dictionary<string, long>> CountsAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in Tables)
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");
        return counts;
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Seed_Again_ReturnsFalseAndChangesNothing(Engine engine)
    {
        var db = await seeded.ForAsync(engine);
        var before = await CountsAsync(db);

        var seededAgain = await db.Get<DemoData>().SeedAsync(Cancellation);

        Assert.False(seededAgain);
        Assert.Equal(before, await CountsAsync(db));
        Assert.All(Tables, table => Assert.True(before[table] > 0, $"{table} is empty"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Seed_EveryDemoUser_IsASubjectLinkedToItsDemoId(Engine engine)
    {
        var db = await seeded.ForAsync(engine);
        var directory = db.Get<SubjectDirectory>();

        foreach (var user in DemoData.Users)
        {
            var subject = await db.Services.SubjectByExternalIdAsync(user.ExternalId);
            Assert.NotNull(subject);
            Assert.Equal(user.Email, subject.Email);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Seed_AliceAndBob_HaveRecordsInEveryCategory_WhosePayloadsOpenAsJson(Engine engine)
    {
        var db = await seeded.ForAsync(engine);
        var programs = (await db.Get<ProgramQueries>().ListAsync(Cancellation)).ToDictionary(p => p.Key);
        var mci = programs["mci"];
        var endpoint = programs["endpoint-security"];
        Assert.Equal(["keystrokes", "mouse_movements", "transcriptions", "performance_data"], mci.Categories.Select(c => c.Key));
        Assert.Equal(LegalBasis.Consent, mci.LegalBasis);
        Assert.Equal(["process_events"], endpoint.Categories.Select(c => c.Key));
        Assert.Equal(LegalBasis.LegitimateInterest, endpoint.LegalBasis);

        foreach (var email in new[] { "alice@example.com", "bob@example.com" })
        {
            var subject = await db.Services.SubjectByExternalIdAsync(DemoData.FindUser(email)!.ExternalId);
            foreach (var program in new[] { mci, endpoint })
            {
                var records = await SampleData.NewestAsync(db, subject!.Id, program.Id, limit: 100_000);
                Assert.Equal(program.Categories.Select(c => c.Id).Order(), records.Select(r => r.CategoryId).Distinct().Order());
                Assert.All(records, record =>
                {
                    Assert.NotNull(record.Payload);
                    using var json = JsonDocument.Parse(record.Payload);
                    Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
                });
            }
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Seed_Dana_HasAnApprovedUnexpiredGrantOnMciKeystrokesAndMouseMovements(Engine engine)
    {
        var db = await seeded.ForAsync(engine);
        await using var connection = await db.OpenAsync();

        var grant = await connection.QuerySingleAsync<(string Principal, string Purpose, string? ApprovedBy, DateTimeOffset ExpiresAt)>("""
            SELECT g.principal, g.purpose, g.approved_by, g.expires_at
            FROM grants g JOIN programs p ON p.id = g.program_id
            WHERE p.key = 'mci' AND g.principal = 'dana@example.com' AND g.revoked_at IS NULL
            """);
        var categories = await connection.QueryAsync<string>("""
            SELECT c.key FROM grant_categories gc JOIN categories c ON c.id = gc.category_id ORDER BY c.key
            """);

        Assert.Equal(DemoData.DanaPurpose, grant.Purpose);
        Assert.NotNull(grant.ApprovedBy);
        Assert.NotEqual(grant.Principal, grant.ApprovedBy);
        Assert.True(grant.ExpiresAt > DateTimeOffset.UtcNow, "dana's grant has expired");
        Assert.Equal(["keystrokes", "mouse_movements"], categories);
    }
}
