using System.Data.Common;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using GovernancePortal.Data;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Data;

public sealed class ConnectionFactoryTests : DatabaseTests
{
    [Fact]
    public async Task Sqlite_MigratedDatabase_RunsInWalModeWithForeignKeysOn()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);
        await using var connection = await db.OpenAsync();

        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys"));
    }

    [Fact]
    public async Task Sqlite_Commit_IsSyncedToDiskBeforeItReturns()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);
        await using var connection = await db.OpenAsync();

        // FULL (2): in WAL mode NORMAL (1) would leave the last commits to a power cut, and an answer already sent with them.
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("PRAGMA synchronous"));
    }

    [Fact]
    public async Task Sqlite_WriteAheadLog_IsCheckpointedInTheBackgroundOnceThresholdPagesAreWritten()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);
        var connections = db.Get<ConnectionFactory>();
        var file = new SqliteConnectionStringBuilder(db.ConnectionString).DataSource;
        await using (var scope = await connections.BeginWriteAsync(TestContext.Current.CancellationToken))
        {
            await scope.ExecuteAsync("CREATE TABLE scratch (b blob NOT NULL)");
            await scope.CommitAsync();
        }
        var before = new FileInfo(file).Length;

        // A little over the threshold in 4 KiB pages, one page a row, in transactions of 1,000 rows: far below
        // SQLite's own automatic checkpoint (the safety net), so only the background one copies them into the file.
        var rows = SqliteCheckpoints.Threshold + 1_000;
        for (var written = 0; written < rows; written += 1_000)
        {
            await using var scope = await connections.BeginWriteAsync(TestContext.Current.CancellationToken);
            await scope.ExecuteAsync("INSERT INTO scratch (b) SELECT randomblob(3900) FROM json_each(@Rows)", new { Rows = JsonSerializer.Serialize(new int[1_000]) });
            await scope.CommitAsync();
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (new FileInfo(file).Length - before < (long)SqliteCheckpoints.Threshold * 4096 && DateTime.UtcNow < deadline)
            await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.True(new FileInfo(file).Length - before >= (long)SqliteCheckpoints.Threshold * 4096,
            $"the database file grew by {new FileInfo(file).Length - before:N0} bytes: the log was not checkpointed");
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Insert_CategoryOfMissingProgram_IsRejectedByForeignKey(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var connection = await db.OpenAsync();

        await Assert.ThrowsAnyAsync<DbException>(() => connection.ExecuteAsync("""
            INSERT INTO categories (program_id, key, name, sensitivity, retention_days, created_at)
            VALUES (4242, 'orphan', 'Orphan', 'low', 1, @Now)
            """, new { Now = SampleData.Epoch }));
    }
}
