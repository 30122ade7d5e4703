using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// <c>gp bench ingest</c>: the real portal in this process on a fresh database, driven over HTTP by
/// concurrent clients posting batches, and, in the same run, two baselines: the same rows inserted straight
/// into <c>records</c> through the engine's bulk path from as many writers (the product's raw path), and the
/// plain bulk load (a fresh table of the same columns and secondary indexes, no foreign keys, one writer).
/// Reports the median of each over the rounds, their ratios, the requests' p99 latency and where a batch's
/// time goes (<see cref="CollectionTimings"/>).
/// </summary>
internal static class IngestBenchmark
{
    public const int BatchSize = 1_000;
    public const int Clients = 4;
    private static readonly string[] Categories = ["keystrokes", "mouse_movements", "transcriptions"];
    private const string PlainTable = "bench_plain_records";
    private static readonly TimeSpan CapturedStep = TimeSpan.FromMicroseconds(100);

    public static async Task<int> RunAsync(int records, int rounds, DatabaseProvider provider, string? postgres, TextWriter output)
    {
        await using var database = await BenchDatabase.CreateAsync(provider, postgres);
        var app = await PortalApp.BuildAsync(["--environment", "Development"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(database.Configuration);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Demo:Seed"] = "false",
                // A throwaway portal on loopback; nobody signs in, but a portal without any sign-in refuses to start.
                ["Authentication:DevSignIn:Enabled"] = "true",
                ["Logging:LogLevel:GovernancePortal.Web"] = "Error",
                ["Collection:RateLimit:RequestsPerSecond"] = "100000",
                ["Collection:RateLimit:Burst"] = "100000",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        });
        await app.StartAsync();
        try
        {
            var address = app.Urls.First();
            var tokens = await PrepareProgramAsync(app.Services);
            await output.WriteLineAsync($"gp bench ingest: {database.EngineName}, {records:N0} records a round, batches of {BatchSize:N0}, {Clients} clients, {rounds} round(s), {Environment.ProcessorCount} cores");

            var endpointRates = new List<double>();
            var rawRates = new List<double>();
            var plainRates = new List<double>();
            var p99s = new List<double>();
            using var phases = new PhaseTotals();
            using var walPages = new WalPages();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
            await PostAsync(http, tokens[0], BuildBatch(0, BatchSize, DateTimeOffset.UtcNow), "warm-up");   // JIT, pools, keys

            for (var round = 1; round <= rounds; round++)
            {
                // Captured 100 µs apart from now on: each batch later than the one before, as an agent's are (a million
                // records span 100 s, inside the five minutes a captured time may be ahead of the portal's clock).
                var capturedFrom = DateTimeOffset.UtcNow;
                var batches = Enumerable.Range(0, records / BatchSize).Select(b => BuildBatch(round * 10_000_000 + b * BatchSize, BatchSize, capturedFrom.AddTicks(CapturedStep.Ticks * b * BatchSize))).ToList();
                phases.Reset();
                walPages.Take();
                var (endpoint, latencies) = await TimeEndpointAsync(http, tokens, batches, round);
                var snapshot = phases.Snapshot();
                var endpointPages = walPages.Take();
                var rows = await SealedRowsAsync(app.Services, batches.Count * BatchSize);
                walPages.Take();   // the data keys the sealing looked up
                var raw = await TimeRawInsertAsync(app.Services, rows);
                var rawPages = walPages.Take();
                var plain = await TimePlainLoadAsync(app.Services.GetRequiredService<ConnectionFactory>(), rows);
                var plainPages = walPages.Take();
                var p99 = Percentile(latencies, 0.99);
                endpointRates.Add(endpoint);
                rawRates.Add(raw);
                plainRates.Add(plain);
                p99s.Add(p99);
                await output.WriteLineAsync($"  round {round}: endpoint {endpoint,8:N0} records/s (p50 {Percentile(latencies, 0.5),5:N0} ms, p99 {p99,5:N0} ms)   raw {raw,8:N0}   plain {plain,8:N0}   endpoint/raw {endpoint / raw,5:P0}   endpoint/plain {endpoint / plain,5:P0}");
                await output.WriteLineAsync($"           per batch: {PhaseTotals.Describe(snapshot, latencies)}");
                if (database.Options.Provider == DatabaseProvider.Sqlite)
                    await output.WriteLineAsync($"           pages written to the write-ahead log per 1,000 records: endpoint {endpointPages * 1000.0 / records:N0}, raw {rawPages * 1000.0 / records:N0}, plain {plainPages * 1000.0 / records:N0}");
            }

            var endpointMedian = Figures.Median(endpointRates);
            var rawMedian = Figures.Median(rawRates);
            var plainMedian = Figures.Median(plainRates);
            await output.WriteLineAsync($"median: endpoint {endpointMedian:N0} records/s, raw {rawMedian:N0} records/s (product schema, {Clients} writers), plain bulk load {plainMedian:N0} records/s (same columns and indexes, no foreign keys, one writer)");
            await output.WriteLineAsync($"median: endpoint/raw {endpointMedian / rawMedian:P0}, endpoint/plain {endpointMedian / plainMedian:P0}, p99 request latency {Figures.Median(p99s):N0} ms");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        // The rows the rounds stored (the endpoint's and the raw path's), for the sizing section of docs/PERFORMANCE.md.
        await StorageFigures.ReportAsync(database.Options, output);
        return 0;
    }

    private static async Task<string[]> PrepareProgramAsync(IServiceProvider services)
    {
        var actor = new Actor("gp bench", [Roles.PrivacyOfficer]);
        var editor = services.GetRequiredService<ProgramEditor>();
        await editor.RegisterAsync(new ProgramDraft("bench", "Benchmark program", "Measures collection throughput.", "Portal team", LegalBasis.Consent), actor);
        foreach (var category in Categories)
            await editor.AddCategoryAsync("bench", new CategoryDraft(category, category, "", "medium", 30), actor);
        var registry = services.GetRequiredService<CollectorRegistry>();
        var tokens = new string[Clients];
        for (var i = 0; i < Clients; i++)
            tokens[i] = (await registry.CreateAsync("bench", $"bench client {i + 1}", actor)).Token;
        return tokens;
    }

    /// <summary>Records a second and each request's latency in milliseconds. Every batch carries its own Idempotency-Key, as collectors are told to.</summary>
    private static async Task<(double Rate, List<double> Latencies)> TimeEndpointAsync(HttpClient http, string[] tokens, IReadOnlyList<byte[]> batches, int round)
    {
        var queue = new ConcurrentQueue<(byte[] Batch, int Number)>(batches.Select((batch, number) => (batch, number)));
        var latencies = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(tokens.Select(async token =>
        {
            while (queue.TryDequeue(out var item))
            {
                var started = Stopwatch.GetTimestamp();
                await PostAsync(http, token, item.Batch, $"round-{round}-batch-{item.Number}");
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        return (batches.Count * BatchSize / clock.Elapsed.TotalSeconds, latencies.ToList());
    }

    private static async Task PostAsync(HttpClient http, string token, byte[] batch, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/collect") { Content = new ByteArrayContent(batch) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"the endpoint answered {(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync())}");
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (answer.GetProperty("accepted").GetInt32() != BatchSize)
            throw new InvalidOperationException($"the endpoint refused records: {Shorten(answer.ToString())}");
    }

    /// <summary>The same number of rows as a round, same payload size, sealed beforehand, in batches of 1,000.</summary>
    private static async Task<IReadOnlyList<RecordRow[]>> SealedRowsAsync(IServiceProvider services, int count)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var keys = services.GetRequiredService<DataKeyStore>();
        IReadOnlyDictionary<DataKeyScope, DataKey> scopeKeys;
        long programId;
        long[] categoryIds;
        long[] subjectIds;
        await using (var connection = await connections.OpenAsync())
        {
            programId = await connection.ExecuteScalarAsync<long>("SELECT id FROM programs WHERE key = 'bench'");
            categoryIds = (await connection.QueryAsync<long>("SELECT id FROM categories WHERE program_id = @programId ORDER BY id", new { programId })).ToArray();
            subjectIds = (await connection.QueryAsync<long>("SELECT id FROM subjects WHERE email LIKE '%@bench.example' ORDER BY id")).ToArray();
        }
        await using (var unitOfWork = await connections.BeginWriteAsync())
        {
            scopeKeys = await keys.GetOrCreateManyAsync(unitOfWork,
                subjectIds.SelectMany(s => categoryIds.Select(c => new DataKeyScope(s, programId, c))).ToList());
            await unitOfWork.CommitAsync();
        }

        var receivedAt = StoredTime.Normalize(DateTimeOffset.UtcNow);
        return Enumerable.Range(0, count / BatchSize).Select(b =>
            Enumerable.Range(0, BatchSize).Select(i =>
            {
                var n = b * BatchSize + i;
                var scope = new DataKeyScope(subjectIds[n % subjectIds.Length], programId, categoryIds[n % categoryIds.Length]);
                var key = scopeKeys[scope];
                var capturedAt = receivedAt.AddTicks(CapturedStep.Ticks * (n - count));
                var (nonce, sealedPayload) = RecordPayloads.Seal(key, capturedAt, Payload(n));
                return new RecordRow(programId, scope.CategoryId, scope.SubjectId, null, key.Id, capturedAt, receivedAt, nonce, sealedPayload);
            }).ToArray()).ToList();
    }

    /// <summary>The product's raw path: the rows into <c>records</c> (its foreign keys and indexes) by the engine's bulk path, from as many writers as clients.</summary>
    private static async Task<double> TimeRawInsertAsync(IServiceProvider services, IReadOnlyList<RecordRow[]> rows)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var batches = new ConcurrentQueue<RecordRow[]>(rows);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            while (batches.TryDequeue(out var batch))
            {
                await using var scope = await connections.BeginWriteAsync();
                await connections.Dialect.InsertRecordsAsync(scope.Connection, scope.Transaction, batch);
                await scope.CommitAsync();
            }
        }));
        return rows.Sum(batch => batch.Length) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The plain bulk load: a fresh table with the columns of <c>records</c> and its secondary indexes but no foreign
    /// keys, one writer, one transaction per 1,000 rows, the engine's bulk path (PostgreSQL binary COPY, SQLite one
    /// prepared insert). What the engine itself can take on this machine.
    /// </summary>
    private static async Task<double> TimePlainLoadAsync(ConnectionFactory connections, IReadOnlyList<RecordRow[]> rows)
    {
        await using (var connection = await connections.OpenAsync())
        {
            await connection.ExecuteAsync($"DROP TABLE IF EXISTS {PlainTable}");
            if (connections.Dialect.Provider == DatabaseProvider.Postgres)
                // LIKE copies the columns, the identity and the indexes, never the foreign keys.
                await connection.ExecuteAsync($"CREATE TABLE {PlainTable} (LIKE records INCLUDING IDENTITY INCLUDING INDEXES)");
            else
            {
                var table = await connection.ExecuteScalarAsync<string>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'");
                // A renamed table's text names it in quotes.
                var plain = Regex.Replace(table!, @"^CREATE TABLE\s+""?records""?", $"CREATE TABLE {PlainTable}");
                await connection.ExecuteAsync(Regex.Replace(plain, @"\s+REFERENCES\s+\w+\s*\(\w+\)", ""));
                foreach (var index in await connection.QueryAsync<string>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL"))
                    await connection.ExecuteAsync(Regex.Replace(index, @"INDEX\s+(\w+)\s+ON\s+records\b", m => $"INDEX plain_{m.Groups[1].Value} ON {PlainTable}"));
            }
        }
        var clock = Stopwatch.StartNew();
        // Each batch through a write scope like the product's writes, so both have the same durability and checkpoints.
        foreach (var batch in rows)
        {
            await using var scope = await connections.BeginWriteAsync();
            await connections.Dialect.InsertRowsAsync(scope.Connection, scope.Transaction, PlainTable, batch);
            await scope.CommitAsync();
        }
        var rate = rows.Sum(batch => batch.Length) / clock.Elapsed.TotalSeconds;
        await using (var connection = await connections.OpenAsync())
            await connection.ExecuteAsync($"DROP TABLE {PlainTable}");
        return rate;
    }

    /// <summary>
    /// A batch of <paramref name="size"/> records of as many people, captured <see cref="CapturedStep"/> apart from
    /// <paramref name="capturedFrom"/> (until 2026-12-01 every batch of a round was captured within the same second,
    /// which put each batch at random places of the time indexes instead of at their end).
    /// </summary>
    private static byte[] BuildBatch(int first, int size, DateTimeOffset capturedFrom)
    {
        var builder = new StringBuilder(size * 420);
        builder.Append('[');
        for (var i = 0; i < size; i++)
        {
            var n = first + i;
            if (i > 0)
                builder.Append(',');
            builder.Append("{\"subject\":\"person").Append(n % 2_000).Append("@bench.example\",\"category\":\"")
                .Append(Categories[n % Categories.Length]).Append("\",\"capturedAt\":\"")
                .Append(capturedFrom.AddTicks(CapturedStep.Ticks * i).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'")).Append("\",\"payload\":")
                .Append(Payload(n)).Append('}');
        }
        builder.Append(']');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>About 300 bytes of JSON, shaped like a keystroke record.</summary>
    private static string Payload(int n) =>
        $$"""{"app":"outlook.exe","window":"RE: Quarterly planning - Outlook","text":"Thanks, I will send the revised forecast by Thursday; the travel budget line needs another look before we share it with finance. Ref {{n % 100_000:D5}}","keys":{{120 + n % 80}},"idleSeconds":{{n % 30}}}""";

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static double Percentile(List<double> values, double fraction)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
    }
}
