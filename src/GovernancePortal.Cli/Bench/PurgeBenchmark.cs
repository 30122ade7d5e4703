using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Retention;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// <c>gp bench purge</c>: a throwaway database with many records past their retention, and in the same run
/// (1) ingestion through the collection service's own transaction (switch checks, keys, sealing, insert) from
/// concurrent writers with nothing else running; (2) the retention sweep alone; (3) the sweep again over the
/// same rows reloaded, with the same ingestion running beside it; (4) one raw <c>DELETE</c> of the same rows,
/// the baseline. Ingestion rates are medians of several windows; each purge deletes every expired row.
/// </summary>
internal static class PurgeBenchmark
{
    private const int LoadBatchSize = 50_000;
    private const int IngestBatchSize = 1_000;
    private const int Writers = 4;
    private const int Windows = 3;
    private const int People = 2_000;
    private const int RetentionDays = 30;
    private const string ProgramKey = "bench";
    private static readonly string[] Categories = ["keystrokes", "mouse_movements", "transcriptions"];
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private const string Payload = """{"app":"outlook.exe","window":"RE: Quarterly planning - Outlook","text":"Thanks, I will send the revised forecast by Thursday; the travel budget line needs another look.","keys":160}""";

    public static async Task<int> RunAsync(int records, int batchSize, DatabaseProvider provider, string? postgres, TextWriter output)
    {
        await using var database = await BenchDatabase.CreateAsync(provider, postgres);
        var settings = new PortalSettings(database.Options, new MasterKeyRing(database.MasterKey), database.Folder,
            Retention: RetentionOptions.Default with { BatchSize = batchSize });
        await using var services = new ServiceCollection().AddLogging().AddPortalCore(settings).BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await output.WriteLineAsync($"gp bench purge: {database.EngineName}, {records:N0} expired records of {People:N0} people in {Categories.Length} categories, "
            + $"sweep batches of {batchSize:N0}, ingestion {Writers} writers x {IngestBatchSize:N0} records, {Environment.ProcessorCount} cores");

        var world = await PrepareAsync(services);
        var sweep = services.GetRequiredService<RetentionSweep>();

        await LoadExpiredAsync(services, world, records, output);
        await IngestForAsync(services, world, Window / 5);   // warm-up: JIT, pools, key cache
        var alone = new List<double>();
        for (var i = 0; i < Windows; i++)
            alone.Add(await IngestForAsync(services, world, Window));
        await output.WriteLineAsync($"  ingestion, nothing else running: {Figures.Median(alone),10:N0} records/s   (windows {string.Join(" · ", alone.Select(r => r.ToString("N0")))})");

        var (purgedAlone, sweepAlone) = await TimeAsync(() => sweep.RunAsync());
        Expect(purgedAlone.Deleted, records, "the sweep alone");
        await output.WriteLineAsync($"  retention sweep alone:           {records / sweepAlone.TotalSeconds,10:N0} records/s   ({records:N0} in {sweepAlone.TotalSeconds:N1} s, {purgedAlone.Categories.Sum(c => c.Batches):N0} batches)");

        await LoadExpiredAsync(services, world, records, output);
        using var stop = new CancellationTokenSource();
        var counter = new IngestCounter();
        var ingestion = IngestAsync(services, world, TimeSpan.MaxValue, stop.Token, counter);
        await Task.Delay(TimeSpan.FromSeconds(2));   // ingestion at full speed before the sweep starts
        var before = Interlocked.Read(ref counter.Count);
        var (purgedBusy, sweepBusy) = await TimeAsync(() => sweep.RunAsync());
        var duringSweep = Interlocked.Read(ref counter.Count) - before;
        await stop.CancelAsync();
        await ingestion;
        Expect(purgedBusy.Deleted, records, "the sweep beside ingestion");
        var duringRate = duringSweep / sweepBusy.TotalSeconds;
        await output.WriteLineAsync($"  retention sweep, ingesting:      {records / sweepBusy.TotalSeconds,10:N0} records/s   ({records:N0} in {sweepBusy.TotalSeconds:N1} s)");
        await output.WriteLineAsync($"  ingestion during the sweep:      {duringRate,10:N0} records/s   ({duringSweep:N0} records while it ran; {duringRate / Figures.Median(alone):P0} of its rate alone)");

        await LoadExpiredAsync(services, world, records, output);
        var (deletedRaw, raw) = await TimeAsync(() => RawDeleteAsync(services, world));
        Expect(deletedRaw, records, "the raw DELETE");
        await output.WriteLineAsync($"  raw DELETE (one statement):      {records / raw.TotalSeconds,10:N0} records/s   ({records:N0} in {raw.TotalSeconds:N1} s)");

        await output.WriteLineAsync($"result: sweep {records / sweepAlone.TotalSeconds:N0} records/s alone ({raw.TotalSeconds / sweepAlone.TotalSeconds:P0} of the raw DELETE's rate), "
            + $"{records / sweepBusy.TotalSeconds:N0} records/s beside ingestion; ingestion {Figures.Median(alone):N0} records/s alone, {duringRate:N0} during the sweep ({duringRate / Figures.Median(alone):P0})");
        return 0;
    }

    private sealed record World(long ProgramId, long[] CategoryIds, long[] People, string[] Emails, Dictionary<(long Subject, long Category), DataKey> Keys, CollectorIdentity Collector);

    private static async Task<World> PrepareAsync(IServiceProvider services)
    {
        var tool = new Actor("gp bench", [Roles.PrivacyOfficer]);
        var editor = services.GetRequiredService<ProgramEditor>();
        await editor.RegisterAsync(new ProgramDraft(ProgramKey, "Benchmark program", "Measures the retention sweep.", "Portal team", LegalBasis.Consent), tool);
        foreach (var category in Categories)
            await editor.AddCategoryAsync(ProgramKey, new CategoryDraft(category, category, "", "medium", RetentionDays), tool);
        var program = (await services.GetRequiredService<ProgramQueries>().GetAsync(ProgramKey))!;
        var categoryIds = program.Categories.Select(c => c.Id).ToArray();
        var (collector, _) = await services.GetRequiredService<CollectorRegistry>().CreateAsync(ProgramKey, "bench", tool);

        var emails = Enumerable.Range(0, People).Select(i => $"person{i}@bench.example").ToArray();
        var people = new long[People];
        Dictionary<(long, long), DataKey> keys;
        await using (var scope = await services.GetRequiredService<ConnectionFactory>().BeginWriteAsync())
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < People; i++)
                people[i] = await scope.ExecuteScalarAsync<long>(
                    "INSERT INTO subjects (email, display_name, created_at) VALUES (@email, @email, @now) RETURNING id", new { email = emails[i], now });
            keys = (await services.GetRequiredService<DataKeyStore>().GetOrCreateManyAsync(scope,
                    people.SelectMany(p => categoryIds.Select(c => new DataKeyScope(p, program.Id, c))).ToList()))
                .Values.ToDictionary(key => (key.Scope.SubjectId, key.Scope.CategoryId));
            await scope.CommitAsync();
        }
        return new World(program.Id, categoryIds, people, emails, keys, new CollectorIdentity(collector.Id, program.Id, ProgramKey));
    }

    /// <summary>The same rows each time: captured 60 to 40 days ago (past the 30 days' retention), sealed under their scope's key.</summary>
    private static async Task LoadExpiredAsync(IServiceProvider services, World world, int records, TextWriter output)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var clock = Stopwatch.StartNew();
        IReadOnlyList<string> indexes;
        await using (var scope = await connections.BeginWriteAsync())
        {
            indexes = await BulkRecordLoad.DropIndexesAsync(scope);
            await scope.CommitAsync();
        }
        var newest = StoredTime.Normalize(DateTimeOffset.UtcNow.AddDays(-40));
        var step = TimeSpan.FromDays(20).Ticks / records;
        var batches = Channel.CreateBounded<RecordRow[]>(4);
        var producer = Task.Run(async () =>
        {
            var ciphers = world.Keys.Values.ToDictionary(key => key.Id, key => new AesGcm(key.Key, Aead.TagSize));
            try
            {
                for (var first = 0; first < records; first += LoadBatchSize)
                {
                    var rows = new RecordRow[Math.Min(LoadBatchSize, records - first)];
                    for (var i = 0; i < rows.Length; i++)
                    {
                        var n = first + i;
                        var capturedAt = StoredTime.Normalize(newest.AddTicks(-step * n));
                        var key = world.Keys[(world.People[n % People], world.CategoryIds[n / People % world.CategoryIds.Length])];
                        var (nonce, sealedPayload) = RecordPayloads.Seal(ciphers[key.Id], key, capturedAt, Payload);
                        rows[i] = new RecordRow(world.ProgramId, key.Scope.CategoryId, key.Scope.SubjectId, null, key.Id, capturedAt, capturedAt, nonce, sealedPayload);
                    }
                    await batches.Writer.WriteAsync(rows);
                }
            }
            finally
            {
                foreach (var cipher in ciphers.Values)
                    cipher.Dispose();
                batches.Writer.Complete();
            }
        });
        await BulkRecordLoad.WriteAsync(connections, batches.Reader, producer, TextWriter.Null, long.MaxValue);
        await BulkRecordLoad.RestoreIndexesAsync(connections, indexes);
        await output.WriteLineAsync($"  {records:N0} expired records loaded in {clock.Elapsed.TotalSeconds:N0} s");
    }

    private sealed class IngestCounter
    {
        public long Count;
    }

    private static async Task<double> IngestForAsync(IServiceProvider services, World world, TimeSpan length)
    {
        var counter = new IngestCounter();
        var elapsed = await IngestAsync(services, world, length, CancellationToken.None, counter);
        return counter.Count / elapsed.TotalSeconds;
    }

    /// <summary>
    /// <see cref="Writers"/> writers send batches through <see cref="CollectionService.IngestAsync"/> (what the endpoint
    /// does after reading the body) for <paramref name="length"/>, or until <paramref name="stop"/>, counting into <paramref name="counter"/>; the time taken.
    /// </summary>
    private static async Task<TimeSpan> IngestAsync(IServiceProvider services, World world, TimeSpan length, CancellationToken stop, IngestCounter counter)
    {
        var collection = services.GetRequiredService<CollectionService>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            var n = writer * 1_000_003L;
            while (clock.Elapsed < length && !stop.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                var batch = new List<IncomingRecord>(IngestBatchSize);
                for (var i = 0; i < IngestBatchSize; i++, n++)
                    batch.Add(new IncomingRecord(i, world.Emails[n % People], Categories[n % Categories.Length], now.AddMilliseconds(-(n % 1_000)), Payload));
                var result = await collection.IngestAsync(world.Collector, new CollectBatch(batch, []), idempotencyKey: null);
                if (result.Accepted != IngestBatchSize)
                    throw new InvalidOperationException($"ingestion refused records: {string.Join(", ", result.Rejected.Select(r => r.Reason).Distinct())}");
                Interlocked.Add(ref counter.Count, result.Accepted);
            }
        })));
        return clock.Elapsed;
    }

    private static async Task<int> RawDeleteAsync(IServiceProvider services, World world)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        await using var scope = await connections.BeginWriteAsync();
        var deleted = await scope.Connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM records WHERE category_id {scope.Dialect.AnyOf("@Categories")} AND captured_at <= @Cutoff",
            new { Categories = scope.Dialect.List(world.CategoryIds), Cutoff = StoredTime.Normalize(DateTimeOffset.UtcNow.AddDays(-RetentionDays)) },
            scope.Transaction, commandTimeout: 0));
        await scope.CommitAsync();
        return deleted;
    }

    private static async Task<(T Result, TimeSpan Elapsed)> TimeAsync<T>(Func<Task<T>> action)
    {
        var clock = Stopwatch.StartNew();
        var result = await action();
        return (result, clock.Elapsed);
    }

    private static void Expect(long actual, long expected, string what)
    {
        if (actual != expected)
            throw new InvalidOperationException($"{what} deleted {actual:N0} records, not {expected:N0}");
    }
}
