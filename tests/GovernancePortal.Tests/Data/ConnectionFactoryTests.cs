using System.Data.Common;
using Dapper;
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
