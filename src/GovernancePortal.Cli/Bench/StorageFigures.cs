using System.Data.Common;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// How much room the records take after a benchmark run, for the sizing section of docs/PERFORMANCE.md: the
/// table and each of its indexes, in MiB and bytes per record. PostgreSQL reports each relation's size. SQLite
/// (whose bundled build has no <c>dbstat</c>) is measured by what each index and then the table give back to the
/// free list when dropped, so this runs last, on the throwaway database only.
/// </summary>
internal static class StorageFigures
{
    public static async Task ReportAsync(DatabaseOptions options, TextWriter output)
    {
        var connections = new ConnectionFactory(options);
        await using var connection = await connections.OpenAsync();
        var records = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM records");
        var sizes = options.Provider == DatabaseProvider.Postgres ? await PostgresAsync(connection) : await SqliteAsync(connection);
        var total = sizes.Sum(size => size.Bytes);
        await output.WriteLineAsync($"storage: {records:N0} records, {Describe("in all", total, records)}");
        foreach (var (name, bytes) in sizes)
            await output.WriteLineAsync($"  {Describe(name, bytes, records)}");
    }

    private static string Describe(string name, long bytes, long records) =>
        $"{name} {bytes / 1048576.0:N1} MiB ({(records == 0 ? 0 : bytes / (double)records):N0} bytes a record)";

    private static async Task<IReadOnlyList<(string Name, long Bytes)>> PostgresAsync(DbConnection connection)
    {
        // The table with its TOAST, free-space and visibility maps; each index on its own.
        var sizes = new List<(string, long)> { ("table", await connection.ExecuteScalarAsync<long>("SELECT pg_table_size('records')")) };
        sizes.AddRange((await connection.QueryAsync<(string, long)>("""
            SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'records'::regclass ORDER BY c.relname
            """)).Select(row => (row.Item1, row.Item2)));
        return sizes;
    }

    private static async Task<IReadOnlyList<(string Name, long Bytes)>> SqliteAsync(DbConnection connection)
    {
        await connection.ExecuteAsync("PRAGMA secure_delete = OFF");
        var pageSize = await connection.ExecuteScalarAsync<long>("PRAGMA page_size");
        var sizes = new List<(string, long)>();
        var indexes = await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL ORDER BY name");
        foreach (var index in indexes)
            sizes.Add((index, await FreedAsync($"DROP INDEX {index}")));
        // What is left of the table is its rows (with their overflow pages) and its primary key, the rowid.
        sizes.Insert(0, ("table", await FreedAsync("DROP TABLE records")));
        return sizes;

        async Task<long> FreedAsync(string drop)
        {
            var before = await connection.ExecuteScalarAsync<long>("PRAGMA freelist_count");
            await connection.ExecuteAsync(new CommandDefinition(drop, commandTimeout: 0));
            return (await connection.ExecuteScalarAsync<long>("PRAGMA freelist_count") - before) * pageSize;
        }
    }
}
