using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// <c>gp bench mydata</c>: a throwaway database with many records, some of them one person's, and the
/// time the employee's own views take on it: the counts of <c>/me</c>, and the chart and first page of
/// <c>/me/programs/{key}</c>. Reports the median of several repetitions of each, in milliseconds.
/// </summary>
internal static class MyDataBenchmark
{
    private const int BatchSize = 50_000;
    private const int Repetitions = 9;
    private const int OtherSubjects = 1_000;
    private const int PageSize = 25;
    private const string ProgramKey = "bench";
    private static readonly string[] Categories = ["keystrokes", "mouse_movements", "transcriptions", "performance_data"];
    private static readonly TimeSpan Span = TimeSpan.FromDays(180);

    public static async Task<int> RunAsync(int records, int mine, DatabaseProvider provider, string? postgres, TextWriter output)
    {
        await using var database = await BenchDatabase.CreateAsync(provider, postgres);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddPortalCore(new PortalSettings(database.Options, new MasterKeyRing(database.MasterKey), database.Folder))
            .BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await output.WriteLineAsync($"gp bench mydata: {database.EngineName}, {records:N0} records of which {mine:N0} one person's, {Environment.ProcessorCount} cores");

        var clock = Stopwatch.StartNew();
        var me = await BuildAsync(services, records, mine, output);
        await output.WriteLineAsync($"  data set built in {clock.Elapsed.TotalSeconds:N0} s");

        var summary = services.GetRequiredService<MyDataSummary>();
        var views = services.GetRequiredService<MyRecords>();
        var newest = DateTimeOffset.UtcNow;
        var chartFrom = new DateTimeOffset(newest.UtcDateTime.Date, TimeSpan.Zero).AddDays(-29);
        var chartTo = chartFrom.AddDays(30);

        var firstPage = await views.PageAsync(me, ProgramKey, null, null, null, 0, PageSize);
        if (firstPage.Total != mine || firstPage.Records.Count != PageSize || firstPage.Records.Any(r => r.State != PayloadState.Open))
            throw new InvalidOperationException($"the first page is wrong: total {firstPage.Total}, {firstPage.Records.Count} records, states {string.Join(',', firstPage.Records.Select(r => r.State).Distinct())}");

        await MeasureAsync("counts for /me (MyDataSummary.ForSubjectAsync)", () => summary.ForSubjectAsync(me));
        await MeasureAsync("program counts (MyRecords.ProgramAsync)", () => views.ProgramAsync(me, ProgramKey));
        await MeasureAsync("records per day, 30 days (PerDayAsync)", () => views.PerDayAsync(me, ProgramKey, chartFrom, chartTo));
        await MeasureAsync($"first page of {PageSize}, no filter (PageAsync)", () => views.PageAsync(me, ProgramKey, null, null, null, 0, PageSize));
        await MeasureAsync($"first page of {PageSize}, one category", () => views.PageAsync(me, ProgramKey, Categories[2], null, null, 0, PageSize));
        await MeasureAsync($"first page of {PageSize}, last 7 days", () => views.PageAsync(me, ProgramKey, null, chartTo.AddDays(-7), chartTo, 0, PageSize));
        await MeasureAsync($"page at offset {mine / 2:N0}", () => views.PageAsync(me, ProgramKey, null, null, null, mine / 2, PageSize));
        // A page turn in the live page: the counts are the holdings', read when the page opened.
        var counts = (await views.ProgramAsync(me, ProgramKey))!.RecordCounts;
        await MeasureAsync($"page turn to the first page (counts known)", () => views.PageAsync(me, ProgramKey, null, null, null, 0, PageSize, knownCounts: counts));
        await MeasureAsync($"page turn to offset {mine / 2:N0} (counts known)", () => views.PageAsync(me, ProgramKey, null, null, null, mine / 2, PageSize, knownCounts: counts));
        await MeasureAsync("the detail page's whole first render", async () =>
        {
            // As the page does: the holdings' counts give the table's total.
            var holding = await views.ProgramAsync(me, ProgramKey);
            await views.PerDayAsync(me, ProgramKey, chartFrom, chartTo);
            return await views.PageAsync(me, ProgramKey, null, null, null, 0, PageSize,
                knownCounts: holding?.RecordCounts);
        });
        await MeasureExportAsync(services, me, mine, output);
        return 0;

        async Task MeasureAsync<T>(string name, Func<Task<T>> action)
        {
            await action();   // warm-up: JIT, pools, key cache
            var times = new List<double>();
            for (var i = 0; i < Repetitions; i++)
            {
                var watch = Stopwatch.StartNew();
                await action();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            await output.WriteLineAsync($"  {name,-52} median {times[times.Count / 2],8:N1} ms   (min {times[0]:N1}, max {times[^1]:N1})");
        }
    }

    /// <summary>
    /// The person's whole export (every record opened and written into the ZIP) into a stream that only
    /// counts, three times: the median time, and the most the managed heap grew over its size before the
    /// export, sampled every 20 ms — the same whether the person has a thousand records or a million.
    /// </summary>
    private static async Task MeasureExportAsync(IServiceProvider services, long me, int mine, TextWriter output)
    {
        var actor = new Actor("me@bench.example", [Roles.Employee], me);
        var request = await services.GetRequiredService<Requests.RequestDesk>().SubmitAsync(me, Requests.RequestKind.Export, null, null, actor);
        var export = services.GetRequiredService<Requests.SubjectExport>();
        var times = new List<double>();
        var growths = new List<long>();
        long bytes = 0;
        for (var round = 0; round < 3; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var baseline = GC.GetTotalMemory(forceFullCollection: true);
            var peak = baseline;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                    await Task.Delay(20);
                }
            });
            var watch = Stopwatch.StartNew();
            var receipt = await export.WriteAsync(me, request, Stream.Null, actor);
            times.Add(watch.Elapsed.TotalMilliseconds);
            await sampling.CancelAsync();
            await sampler;
            growths.Add(peak - baseline);
            bytes = receipt.Bytes;
            if (receipt.Records != mine)
                throw new InvalidOperationException($"the export holds {receipt.Records} records, not {mine}");
        }
        times.Sort();
        growths.Sort();
        var median = times[1];
        await output.WriteLineAsync($"  {"export of all " + mine.ToString("N0") + " records (SubjectExport)",-52} median {median,8:N0} ms   ({mine / (median / 1000):N0} records/s, ZIP {bytes / 1024.0 / 1024.0:N1} MiB)");
        await output.WriteLineAsync($"  {"  managed heap growth during the export",-52} median {growths[1] / 1024.0 / 1024.0,8:N1} MiB (max {growths[^1] / 1024.0 / 1024.0:N1})");
    }

    /// <summary>
    /// Inserts the records in batches, one transaction each, through the engine's bulk path, with the
    /// secondary indexes of <c>records</c> dropped during the load and re-created from their own definitions
    /// afterwards. Returns the subject id of the person whose records are real (sealed with their data keys).
    /// </summary>
    private static async Task<long> BuildAsync(IServiceProvider services, int records, int mine, TextWriter output)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var actor = new Actor("gp bench", [Roles.PrivacyOfficer]);
        var editor = services.GetRequiredService<ProgramEditor>();
        var program = await editor.RegisterAsync(new ProgramDraft(ProgramKey, "Benchmark program", "Measures the employee's own views.", "Portal team", LegalBasis.Consent), actor);
        foreach (var category in Categories)
            await editor.AddCategoryAsync(ProgramKey, new CategoryDraft(category, category, "", "medium", 365), actor);
        program = (await services.GetRequiredService<ProgramQueries>().GetAsync(ProgramKey))!;
        var categoryIds = program.Categories.Select(c => c.Id).ToArray();

        long me;
        long[] others;
        Dictionary<long, DataKey> myKeys;
        Dictionary<(long Subject, long Category), long> otherKeys;
        IReadOnlyList<string> indexes;
        await using (var unitOfWork = await connections.BeginWriteAsync())
        {
            var now = DateTimeOffset.UtcNow;
            var connection = unitOfWork.Connection;
            var transaction = unitOfWork.Transaction;
            me = await connection.ExecuteScalarAsync<long>(
                "INSERT INTO subjects (email, display_name, created_at) VALUES ('me@bench.example', 'Me', @now) RETURNING id", new { now }, transaction);
            others = new long[OtherSubjects];
            for (var i = 0; i < OtherSubjects; i++)
                others[i] = await connection.ExecuteScalarAsync<long>(
                    "INSERT INTO subjects (email, display_name, created_at) VALUES (@email, @email, @now) RETURNING id", new { email = $"other{i}@bench.example", now }, transaction);
            var keys = services.GetRequiredService<DataKeyStore>();
            myKeys = (await keys.GetOrCreateManyAsync(unitOfWork, categoryIds.Select(c => new DataKeyScope(me, program.Id, c)).ToList()))
                .Values.ToDictionary(key => key.Scope.CategoryId);
            // The others' payloads are never opened here: their keys only need to exist, not to be real.
            var dummyKey = RandomNumberGenerator.GetBytes(60);
            otherKeys = [];
            foreach (var subject in others)
                foreach (var category in categoryIds)
                    otherKeys[(subject, category)] = await connection.ExecuteScalarAsync<long>("""
                        INSERT INTO data_keys (subject_id, program_id, category_id, wrapped_key, master_key_id, created_at)
                        VALUES (@subject, @program, @category, @dummyKey, 'bench', @now) RETURNING id
                        """, new { subject, program = program.Id, category, dummyKey, now }, transaction);
            indexes = await BulkRecordLoad.DropIndexesAsync(unitOfWork);
            await unitOfWork.CommitAsync();
        }

        // One producer seals batches while the writers insert them: both cores busy, the database never waiting for data.
        var end = StoredTime.Normalize(DateTimeOffset.UtcNow);
        var start = end - Span;
        var step = Span.Ticks / records;
        var every = Math.Max(1, records / Math.Max(1, mine));
        var otherPayload = RandomNumberGenerator.GetBytes(330);
        var otherNonce = RandomNumberGenerator.GetBytes(Aead.NonceSize);
        var batches = Channel.CreateBounded<RecordRow[]>(4);
        var producer = Task.Run(async () =>
        {
            var mineSoFar = 0;
            var random = new Random(7);
            for (var first = 0; first < records; first += BatchSize)
            {
                var rows = new RecordRow[Math.Min(BatchSize, records - first)];
                for (var i = 0; i < rows.Length; i++)
                {
                    var n = first + i;
                    var capturedAt = StoredTime.Normalize(start.AddTicks(step * n));
                    var category = categoryIds[random.Next(categoryIds.Length)];
                    if (n % every == 0 && mineSoFar < mine)
                    {
                        mineSoFar++;
                        var key = myKeys[category];
                        var (nonce, sealedPayload) = RecordPayloads.Seal(key, capturedAt, Payload(n));
                        rows[i] = new RecordRow(program.Id, category, me, null, key.Id, capturedAt, capturedAt, nonce, sealedPayload);
                    }
                    else
                    {
                        var subject = others[random.Next(others.Length)];
                        rows[i] = new RecordRow(program.Id, category, subject, null, otherKeys[(subject, category)], capturedAt, capturedAt, otherNonce, otherPayload);
                    }
                }
                await batches.Writer.WriteAsync(rows);
            }
            batches.Writer.Complete();
        });

        await BulkRecordLoad.WriteAsync(connections, batches.Reader, producer, output, 500_000);

        var clock = Stopwatch.StartNew();
        await BulkRecordLoad.RestoreIndexesAsync(connections, indexes);
        await output.WriteLineAsync($"  indexes re-created and statistics gathered in {clock.Elapsed.TotalSeconds:N0} s");
        return me;
    }

    /// <summary>About 300 bytes of JSON, shaped like a keystroke record.</summary>
    private static string Payload(int n) =>
        $$"""{"app":"outlook.exe","window":"RE: Quarterly planning - Outlook","text":"Thanks, I will send the revised forecast by Thursday; the travel budget line needs another look before we share it with finance. Ref {{n % 100_000:D5}}","keys":{{120 + n % 80}},"idleSeconds":{{n % 30}}}""";
}
