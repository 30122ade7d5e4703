using System.Threading.Channels;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// Loads millions of sealed records into a throwaway benchmark database quickly: the secondary indexes of
/// <c>records</c> are dropped inside the setup's scope, batches are written as a producer seals them, and the
/// indexes are re-created from their own definitions with statistics gathered, as the engine keeps them in service.
/// </summary>
internal static class BulkRecordLoad
{
    public static async Task<IReadOnlyList<string>> DropIndexesAsync(WriteScope scope)
    {
        var indexes = scope.Dialect.Provider == DatabaseProvider.Sqlite
            ? await scope.QueryAsync<string>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")
            : await scope.QueryAsync<string>("SELECT indexdef FROM pg_indexes WHERE tablename = 'records' AND indexname <> 'records_pkey'");
        foreach (var index in indexes)
            await scope.ExecuteAsync($"DROP INDEX {IndexName(index)}");
        return indexes;
    }

    /// <summary>Writes every batch <paramref name="producer"/> puts in <paramref name="batches"/>, reporting every <paramref name="reportEvery"/> rows.</summary>
    public static Task WriteAsync(ConnectionFactory connections, ChannelReader<RecordRow[]> batches, Task producer, TextWriter output, long reportEvery)
    {
        var dialect = connections.Dialect;
        var inserted = 0L;
        var writers = dialect.Provider == DatabaseProvider.Postgres ? 2 : 1;
        return Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            await foreach (var rows in batches.ReadAllAsync())
            {
                await using var connection = await connections.OpenAsync();
                if (dialect.Provider == DatabaseProvider.Sqlite)
                    await connection.ExecuteAsync("PRAGMA synchronous = OFF");
                await using var transaction = await ConnectionFactory.BeginWriteAsync(connection);
                await dialect.InsertRecordsAsync(connection, transaction, rows);
                await transaction.CommitAsync();
                var total = Interlocked.Add(ref inserted, rows.Length);
                if (total / reportEvery != (total - rows.Length) / reportEvery)
                    await output.WriteLineAsync($"  {total / reportEvery * reportEvery:N0} rows inserted");
            }
        })).Append(producer));
    }

    public static async Task RestoreIndexesAsync(ConnectionFactory connections, IReadOnlyList<string> indexes)
    {
        await using var connection = await connections.OpenAsync();
        foreach (var index in indexes)
            await connection.ExecuteAsync(new CommandDefinition(index, commandTimeout: 0, commandType: System.Data.CommandType.Text));
        // Statistics as the engine keeps them in service (PostgreSQL's autovacuum, SQLite's ANALYZE);
        // VACUUM also sets PostgreSQL's visibility map, which index-only scans rely on.
        await connection.ExecuteAsync(new CommandDefinition(connections.Dialect.Provider == DatabaseProvider.Sqlite ? "ANALYZE" : "VACUUM ANALYZE records",
            commandTimeout: 0, commandType: System.Data.CommandType.Text));
    }

    // "CREATE [UNIQUE] INDEX name ON ..."
    private static string IndexName(string definition)
    {
        var words = definition.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words[Array.IndexOf(words, "INDEX") + 1];
    }
}
