using System.Data.Common;
using System.Diagnostics;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// <c>gp bench export</c>: a throwaway database with a chained log of many events, and the rates auditors and
/// writers see on it: the CSV export (events a second, and how far the managed heap grows above its size before
/// the export, at a tenth of the log and at all of it), <c>gp audit verify</c> over that export, appends by 4
/// concurrent writers one event per transaction, and a grant page's 25 events appended at once or one by one.
/// Each figure beside its baseline measured in the same run.
/// </summary>
internal static class ExportBenchmark
{
    private const int LoadBatch = 10_000;
    private const int Writers = 4;
    private const int PageEvents = 25;
    private const int Pages = 100;
    private static readonly Actor Auditor = new("auditor@bench.example", [Roles.Auditor]);

    public static async Task<int> RunAsync(int events, int appends, DatabaseProvider provider, string? postgres, TextWriter output)
    {
        await using var database = await BenchDatabase.CreateAsync(provider, postgres);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddPortalCore(new PortalSettings(database.Options, new MasterKeyRing(database.MasterKey), database.Folder))
            .BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await output.WriteLineAsync($"gp bench export: {database.EngineName}, {events:N0} events, {Environment.ProcessorCount} cores, load average {LoadAverage()}");

        var clock = Stopwatch.StartNew();
        await LoadAsync(services.GetRequiredService<ConnectionFactory>(), events);
        await output.WriteLineAsync($"  log of {events:N0} chained events built in {clock.Elapsed.TotalSeconds:N0} s");

        var export = services.GetRequiredService<AuditExport>();
        var tenth = Math.Max(1, events / 10);
        var (rawRate, _, _) = await MeasureAsync(() => ReadRawAsync(services.GetRequiredService<ConnectionFactory>(), events), events);
        var (smallRate, smallPeak, _) = await MeasureAsync(async () => await ExportAsync(export, 1, tenth, Stream.Null), tenth);
        var (rate, peak, cpuRate) = await MeasureAsync(async () => await ExportAsync(export, 1, events, Stream.Null), events);
        await output.WriteLineAsync($"  CSV export of {tenth,11:N0} events     {smallRate,12:N0} events/s   peak live heap {Mib(smallPeak):N1} MiB");
        await output.WriteLineAsync($"  CSV export of {events,11:N0} events     {rate,12:N0} events/s   peak live heap {Mib(peak):N1} MiB   ({(double)peak / Math.Max(1, smallPeak):P0} of the smaller export's); {cpuRate:N0} events per CPU second");
        await output.WriteLineAsync($"  baseline: the same rows read, not written {rawRate,8:N0} events/s");

        var file = Path.Combine(database.Folder, "export.csv");
        await using (var stream = File.Create(file))
            await ExportAsync(export, 1, events, stream);
        var manifest = await export.ManifestAsync("1", events.ToString(System.Globalization.CultureInfo.InvariantCulture), "csv", Auditor);
        var keys = SigningKeys.ParsePublicKeys(string.Concat((await services.GetRequiredService<SigningKeys>().PublicKeysAsync()).Select(k => k.Pem)));
        var (verifyRate, verifyPeak, verifyCpuRate) = await MeasureAsync(async () =>
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            var result = await AuditExportVerifier.VerifyAsync(stream, manifest, keys);
            if (!result.Verified)
                throw new InvalidOperationException($"the benchmark's own export does not verify: {result.Message}");
        }, events);
        var (hashRate, _, _) = await MeasureAsync(async () =>
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            await System.Security.Cryptography.SHA256.HashDataAsync(stream);
        }, events);
        await output.WriteLineAsync($"  gp audit verify of {events,11:N0} events {verifyRate,11:N0} events/s   peak live heap {Mib(verifyPeak):N1} MiB   ({new FileInfo(file).Length / 1024.0 / 1024:N0} MiB file); {verifyCpuRate:N0} events per CPU second");
        await output.WriteLineAsync($"  baseline: SHA-256 of the file alone      {hashRate,11:N0} events/s");
        File.Delete(file);

        var appendRate = await AppendsAsync(services, appends);
        var rawAppendRate = await RawCommitsAsync(services.GetRequiredService<ConnectionFactory>(), appends);
        await output.WriteLineAsync($"  appends, {Writers} writers, one event a transaction   {appendRate,10:N0} events/s");
        await output.WriteLineAsync($"  baseline: {Writers} writers, one plain row a transaction {rawAppendRate,8:N0} rows/s");

        var (many, oneByOne) = await PagesAsync(services);
        await output.WriteLineAsync($"  a grant page's {PageEvents} events, AppendManyAsync        median {many,6:N2} ms");
        await output.WriteLineAsync($"  baseline: the same {PageEvents} events one by one         median {oneByOne,6:N2} ms");
        return 0;
    }

    // The machine is shared: the load says how much of it the run had (Linux; "?" elsewhere).
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static double Mib(long bytes) => bytes / 1024.0 / 1024;

    private static async Task<AuditExportSummary> ExportAsync(AuditExport export, long from, long to, Stream output)
    {
        var plan = await export.StartAsync(from.ToString(System.Globalization.CultureInfo.InvariantCulture), to.ToString(System.Globalization.CultureInfo.InvariantCulture), "csv", Auditor);
        return await export.WriteAsync(plan, output);
    }

    private static async Task ReadRawAsync(ConnectionFactory connections, long events)
    {
        await using var connection = await connections.OpenAsync();
        long count = 0;
        await foreach (var _ in connection.QueryUnbufferedAsync<AuditEvent>("""
            SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
                   subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
                   record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
            FROM audit_events WHERE seq BETWEEN 1 AND @To ORDER BY seq
            """, new { To = events }))
            count++;
        if (count != events)
            throw new InvalidOperationException($"read {count} of {events} events");
    }

    /// <summary>
    /// Runs <paramref name="action"/> twice for its rate (the faster kept, with its events per CPU second), then once
    /// more for its memory: the peak of the live managed heap (the whole process's, services and pools included),
    /// sampled every 100 ms with a full collection each time, so garbage not yet collected is not counted (it would
    /// only show the allocation budget).
    /// </summary>
    private static async Task<(double Rate, long Peak, double CpuRate)> MeasureAsync(Func<Task> action, long events)
    {
        var best = (Rate: 0.0, CpuRate: 0.0);
        for (var round = 0; round < 2; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            await action();
            var rate = events / watch.Elapsed.TotalSeconds;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            if (rate > best.Rate)
                best = (rate, events / Math.Max(cpuSeconds, 1e-6));
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                await Task.Delay(100);
            }
        });
        await action();
        await sampling.CancelAsync();
        await sampler;
        return (best.Rate, peak, best.CpuRate);
    }

    /// <summary><paramref name="total"/> events from 4 writers at once, each in its own transaction, as actions append them.</summary>
    private static async Task<double> AppendsAsync(IServiceProvider services, int total)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var audit = services.GetRequiredService<AuditLog>();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < total / Writers; i++)
            {
                await using var scope = await connections.BeginWriteAsync();
                await audit.AppendAsync(scope, new AuditEntry($"writer{writer}@bench.example", [Roles.PrivacyOfficer], AuditActions.RequestViewed,
                    SubjectId: i + 1, Detail: $"ERA-{writer:D4}-{i:D4}"));
                await scope.CommitAsync();
            }
        })));
        return total / Writers * Writers / watch.Elapsed.TotalSeconds;
    }

    /// <summary>The same writers committing one plain row each time, to a scratch table: what a commit costs on this engine and disk.</summary>
    private static async Task<double> RawCommitsAsync(ConnectionFactory connections, int total)
    {
        await using (var scope = await connections.BeginWriteAsync())
        {
            await scope.ExecuteAsync("CREATE TABLE bench_rows (writer integer NOT NULL, n integer NOT NULL, detail text NOT NULL)");
            await scope.CommitAsync();
        }
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < total / Writers; i++)
            {
                await using var scope = await connections.BeginWriteAsync();
                await scope.ExecuteAsync("INSERT INTO bench_rows (writer, n, detail) VALUES (@Writer, @N, @Detail)", new { Writer = writer, N = i, Detail = $"ERA-{writer:D4}-{i:D4}" });
                await scope.CommitAsync();
            }
        })));
        return total / Writers * Writers / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Median milliseconds for a page's 25 events in one transaction: appended at once, and one by one.</summary>
    private static async Task<(double Many, double OneByOne)> PagesAsync(IServiceProvider services)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var audit = services.GetRequiredService<AuditLog>();
        var entries = Enumerable.Range(1, PageEvents).Select(i => new AuditEntry("dana@bench.example", [Roles.DataConsumer, Roles.Employee], AuditActions.RecordsRead,
            SubjectId: i, Program: "bench", Purpose: "model training", Detail: new RecordAccessDetail(["keystrokes", "mouse_movements"], 7).Write(), RecordCount: 1)).ToList();
        var many = new List<double>();
        var single = new List<double>();
        for (var page = 0; page < Pages; page++)
        {
            var watch = Stopwatch.StartNew();
            await using (var scope = await connections.BeginWriteAsync())
            {
                await audit.AppendManyAsync(scope, entries);
                await scope.CommitAsync();
            }
            many.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            await using (var scope = await connections.BeginWriteAsync())
            {
                foreach (var entry in entries)
                    await audit.AppendAsync(scope, entry);
                await scope.CommitAsync();
            }
            single.Add(watch.Elapsed.TotalMilliseconds);
        }
        many.Sort();
        single.Sort();
        return (many[Pages / 2], single[Pages / 2]);
    }

    /// <summary>
    /// A chained log of <paramref name="events"/> events, hashed exactly as AuditLog would (so it verifies), written
    /// in batches by the engine's bulk path: PostgreSQL binary COPY, SQLite one prepared statement.
    /// </summary>
    private static async Task LoadAsync(ConnectionFactory connections, int events)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] actions = [AuditActions.RecordsRead, AuditActions.RequestViewed, AuditActions.AuditSearched, AuditActions.ProgramPaused, AuditActions.GrantApproved];
        var prevHash = AuditChain.GenesisHash;
        var batch = new List<AuditEvent>(LoadBatch);
        for (var seq = 1L; seq <= events; seq++)
        {
            var kind = (int)(seq % actions.Length);
            var e = new AuditEvent
            {
                Seq = seq,
                OccurredAt = start.AddTicks(seq * 10_000_0),
                Actor = $"user{seq % 50}@bench.example",
                ActorRoles = kind == 0 ? "DataConsumer,Employee" : "Employee,PrivacyOfficer",
                Action = actions[kind],
                SubjectId = kind is 0 or 1 ? seq % 1_000 + 1 : null,
                Program = kind is 0 or 3 or 4 ? "mci" : null,
                Purpose = kind == 0 ? "model training" : null,
                Detail = kind == 0 ? "categories: keystrokes, mouse_movements; grant 7" : $"reference ERA-{seq:D8}",
                RecordCount = kind == 0 ? seq % 25 + 1 : null,
                PrevHash = prevHash,
            };
            e = e with { Hash = AuditChain.ComputeHash(e) };
            prevHash = e.Hash;
            batch.Add(e);
            if (batch.Count == LoadBatch || seq == events)
            {
                await WriteBatchAsync(connections, batch);
                batch.Clear();
            }
        }
    }

    private static async Task WriteBatchAsync(ConnectionFactory connections, IReadOnlyList<AuditEvent> batch)
    {
        await using var connection = await connections.OpenAsync();
        if (connection is NpgsqlConnection postgres)
        {
            await using var copy = await postgres.BeginBinaryImportAsync(
                "COPY audit_events (seq, occurred_at, actor, actor_roles, action, subject_id, program, purpose, detail, record_count, prev_hash, hash) FROM STDIN (FORMAT BINARY)");
            foreach (var e in batch)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(e.Seq, NpgsqlDbType.Bigint);
                await copy.WriteAsync(e.OccurredAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(e.Actor, NpgsqlDbType.Text);
                await copy.WriteAsync(e.ActorRoles, NpgsqlDbType.Text);
                await copy.WriteAsync(e.Action, NpgsqlDbType.Text);
                await WriteNullableAsync(copy, e.SubjectId, NpgsqlDbType.Bigint);
                await WriteNullableAsync(copy, e.Program, NpgsqlDbType.Text);
                await WriteNullableAsync(copy, e.Purpose, NpgsqlDbType.Text);
                await WriteNullableAsync(copy, e.Detail, NpgsqlDbType.Text);
                await WriteNullableAsync(copy, e.RecordCount, NpgsqlDbType.Bigint);
                await copy.WriteAsync(e.PrevHash, NpgsqlDbType.Text);
                await copy.WriteAsync(e.Hash, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
            return;
        }
        var sqlite = (SqliteConnection)connection;
        await using var transaction = (SqliteTransaction)await sqlite.BeginTransactionAsync();
        await using var insert = sqlite.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO audit_events (seq, occurred_at, actor, actor_roles, action, subject_id, program, purpose, detail, record_count, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        var parameters = Enumerable.Range(1, 12).Select(i => insert.Parameters.Add(new SqliteParameter($"${i}", null))).ToArray();
        foreach (var e in batch)
        {
            object?[] values = [e.Seq, (e.OccurredAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, e.Actor, e.ActorRoles, e.Action, e.SubjectId, e.Program, e.Purpose, e.Detail, e.RecordCount, e.PrevHash, e.Hash];
            for (var i = 0; i < values.Length; i++)
                parameters[i].Value = values[i] ?? DBNull.Value;
            await insert.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct =>
        value is { } some ? copy.WriteAsync(some, type) : copy.WriteNullAsync();

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type) =>
        value is not null ? copy.WriteAsync(value, type) : copy.WriteNullAsync();
}
