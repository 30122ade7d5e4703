using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Data;

public sealed class SchemaMigratorTests : DatabaseTests
{
    /// <summary>A row of Evolve's journal; type 0 is an applied migration (other types mark schema creation and the like).</summary>
    private sealed record JournalRow
    {
        public string Version { get; init; } = "";
        public string Name { get; init; } = "";
        public bool Success { get; init; }
    }

    private static async Task<List<JournalRow>> JournalAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.QueryAsync<JournalRow>(
            $"SELECT version AS Version, name AS Name, success AS Success FROM {SchemaMigrator.HistoryTable} WHERE type = 0 ORDER BY id")).ToList();
    }

    private static List<string> ScriptVersionsInOrder(TestDatabase db) =>
        Directory.GetFiles(SchemaMigrator.ScriptFolder(db.Get<SqlDialect>()), "V*__*.sql")
            .Select(path => Path.GetFileName(path)[1..].Split("__")[0].Replace('_', '.'))
            .OrderBy(version => Version.Parse(version.Contains('.') ? version : version + ".0"))
            .ToList();

    [Theory, MemberData(nameof(Engines))]
    public async Task Migrate_FreshDatabase_AppliesEveryScriptInOrderAndJournalsIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);
        var scripts = ScriptVersionsInOrder(db);

        var applied = await db.Get<SchemaMigrator>().MigrateAsync(Cancellation);

        Assert.NotEmpty(scripts);
        Assert.Equal(scripts.Count, applied);
        var journal = await JournalAsync(db);
        Assert.Equal(scripts, journal.Select(row => row.Version));
        Assert.All(journal, row => Assert.True(row.Success, $"{row.Name} is journaled as failed"));
        await using var connection = await db.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Migrate_TwiceInARow_AppliesNothingTheSecondTime(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);
        var migrator = db.Get<SchemaMigrator>();
        var first = await migrator.MigrateAsync(Cancellation);
        var journal = await JournalAsync(db);

        var second = await migrator.MigrateAsync(Cancellation);

        Assert.True(first > 0);
        Assert.Equal(0, second);
        Assert.Equal(journal, await JournalAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Migrate_TwoMigratorsAtOnce_BothSucceedAndApplyTheSchemaOnce(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);
        // Two service providers: two connection factories and migrators, as two nodes starting together have.
        await using var nodeA = db.BuildServices();
        await using var nodeB = db.BuildServices();
        using var start = new Barrier(2);

        var runs = await Task.WhenAll(
            Task.Run(() => { start.SignalAndWait(); return nodeA.GetRequiredService<SchemaMigrator>().MigrateAsync(Cancellation); }),
            Task.Run(() => { start.SignalAndWait(); return nodeB.GetRequiredService<SchemaMigrator>().MigrateAsync(Cancellation); }));

        var scripts = ScriptVersionsInOrder(db);
        Assert.Equal(scripts.Count, runs.Sum());
        Assert.Contains(0, runs);
        Assert.Equal(scripts, (await JournalAsync(db)).Select(row => row.Version));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pending_BeforeMigrate_ListsEveryScript_AfterwardsIsEmpty(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);
        var migrator = db.Get<SchemaMigrator>();

        var before = await migrator.PendingAsync(Cancellation);
        await migrator.MigrateAsync(Cancellation);
        var after = await migrator.PendingAsync(Cancellation);

        Assert.Equal(ScriptVersionsInOrder(db).Order(StringComparer.Ordinal), before.Order(StringComparer.Ordinal));
        Assert.Empty(after);
    }
}
