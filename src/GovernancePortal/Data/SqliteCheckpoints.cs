using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace GovernancePortal.Data;

/// <summary>
/// Copies SQLite's write-ahead log back into the database file on a thread of its own, so that no writer
/// waits for it. SQLite's own automatic checkpoint runs inside the commit that crosses its threshold, and
/// every other writer of this process waits for that commit (<see cref="SqliteWriterQueue"/>): a checkpoint
/// of collection's index pages took more than half of the writer's time (docs/PERFORMANCE.md).
///
/// After each commit of a <see cref="WriteScope"/> the pages it wrote to the log are counted; once
/// <see cref="Threshold"/> pages have been written since the last checkpoint, a passive checkpoint runs in the
/// background on a connection of its own (it copies what no reader still needs and never blocks a writer).
/// Requests that arrive while one runs make it run once more. SQLite's automatic checkpoint stays on at
/// <see cref="SafetyNet"/> pages for writers that commit outside a scope and for a log the background cannot keep
/// up with.
/// </summary>
public static class SqliteCheckpoints
{
    /// <summary>16,000 pages of 4 KiB: a 64 MiB log. Fewer checkpoints copy each often-written page fewer times.</summary>
    public const int Threshold = 16_000;

    public const int SafetyNet = 4 * Threshold;

    public const string MeterName = "GovernancePortal.Data";
    public const string PagesCounter = "gp.sqlite.wal.pages";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>The engine's own count of what a commit costs: live with <c>dotnet-counters monitor --counters GovernancePortal.Data</c>, summed by <c>gp bench ingest</c>.</summary>
    private static readonly Counter<long> Pages = Meter.CreateCounter<long>(PagesCounter, "pages", "Pages SQLite's committed write transactions wrote to the write-ahead log.");

    private static readonly ConcurrentDictionary<string, Checkpointer> Databases = new(StringComparer.Ordinal);

    /// <summary>Counts the pages the connection's last transaction wrote, and starts a checkpoint when they are enough.</summary>
    internal static void Committed(SqliteConnection connection)
    {
        if (connection.Handle is not { } handle)
            return;
        raw.sqlite3_db_status(handle, raw.SQLITE_DBSTATUS_CACHE_WRITE, out var written, out _, 1);
        if (written <= 0)
            return;
        Pages.Add(written);
        Databases.GetOrAdd(connection.ConnectionString, cs => new Checkpointer(cs)).Add(written);
    }

    private sealed class Checkpointer(string connectionString)
    {
        // Never creates the file: a checkpoint that starts after a throwaway database was deleted must not bring it back.
        // Not pooled: the connection is closed once its checkpoint is done, and holds nothing open between them.
        private readonly string _connectionString = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        private long _pages;
        private int _pending;
        private int _running;

        public void Add(int pages)
        {
            if (Interlocked.Add(ref _pages, pages) < Threshold)
                return;
            Interlocked.Exchange(ref _pages, 0);
            Volatile.Write(ref _pending, 1);
            if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
                _ = Task.Run(RunAsync);
        }

        private async Task RunAsync()
        {
            try
            {
                while (Interlocked.Exchange(ref _pending, 0) == 1)
                {
                    try
                    {
                        await using var connection = new SqliteConnection(_connectionString);
                        await connection.OpenAsync();
                        await connection.ExecuteAsync("PRAGMA busy_timeout = 1000; PRAGMA wal_checkpoint(PASSIVE);");
                    }
                    catch (SqliteException)
                    {
                        // A checkpoint that cannot run now (the file gone, the database busy) is taken by the next one,
                        // or by SQLite's own at the safety net.
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _running, 0);
                if (Volatile.Read(ref _pending) == 1 && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
                    _ = Task.Run(RunAsync);
            }
        }
    }
}
