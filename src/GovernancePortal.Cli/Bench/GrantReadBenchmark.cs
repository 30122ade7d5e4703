using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Grants;
using GovernancePortal.Programs;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// <c>gp bench grant-read</c>: a throwaway database with many records of many people, a data consumer's active
/// grant on two of the program's four categories, and the time the first page under it takes (25 records from
/// up to 25 people, so up to 25 audit events): the whole read, and the audit writes alone, so the read's own
/// share is their difference. Medians of several repetitions, in milliseconds.
/// </summary>
internal static class GrantReadBenchmark
{
    private const int BatchSize = 50_000;
    private const int Repetitions = 9;
    private const int People = 1_000;
    private const int PageSize = 25;
    private const string ProgramKey = "bench";
    private static readonly string[] Categories = ["keystrokes", "mouse_movements", "transcriptions", "performance_data"];
    private static readonly TimeSpan Span = TimeSpan.FromDays(180);

    public static async Task<int> RunAsync(int records, DatabaseProvider provider, string? postgres, TextWriter output)
    {
        await using var database = await BenchDatabase.CreateAsync(provider, postgres);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddPortalCore(new PortalSettings(database.Options, new MasterKeyRing(database.MasterKey), database.Folder))
            .BuildServiceProvider();
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await output.WriteLineAsync($"gp bench grant-read: {database.EngineName}, {records:N0} records of {People:N0} people, {Environment.ProcessorCount} cores");

        var clock = Stopwatch.StartNew();
        var (grantId, consumer) = await BuildAsync(services, records, output);
        await output.WriteLineAsync($"  data set built in {clock.Elapsed.TotalSeconds:N0} s");

        var reader = services.GetRequiredService<GrantReader>();
        var first = await reader.ReadAsync(ProgramKey, grantId, new(), 0, PageSize, consumer);
        var people = first.Records.Select(r => r.SubjectId).Distinct().Count();
        if (first.Records.Count != PageSize || first.Records.Any(r => r.State != Subjects.PayloadState.Open))
            throw new InvalidOperationException($"the first page is wrong: {first.Records.Count} records, states {string.Join(',', first.Records.Select(r => r.State).Distinct())}");
        await output.WriteLineAsync($"  the first page holds {PageSize} records of {people} people: {people} audit events a read");

        var whole = await MeasureAsync($"first page of {PageSize} under the grant (ReadAsync)", () => reader.ReadAsync(ProgramKey, grantId, new(), 0, PageSize, consumer));
        var connections = services.GetRequiredService<ConnectionFactory>();
        var audit = services.GetRequiredService<AuditLog>();
        var writes = await MeasureAsync($"  of which {people} audit events in one transaction", async () =>
        {
            await using var scope = await connections.BeginWriteAsync();
            for (var i = 0; i < people; i++)
                await audit.AppendAsync(scope, new AuditEntry(consumer.Name, consumer.Roles, AuditActions.RecordsRead, SubjectId: first.Records[0].SubjectId,
                    Program: ProgramKey, Purpose: first.Grant.Purpose, Detail: new RecordAccessDetail(["keystrokes"], grantId).Write(), RecordCount: 1));
            await scope.CommitAsync();
            return 0;
        });
        await output.WriteLineAsync($"  {"  and the read itself (the difference)",-56} median {whole - writes,8:N1} ms");
        await MeasureAsync($"first page of {PageSize}, one category", () => reader.ReadAsync(ProgramKey, grantId, new(["mouse_movements"]), 0, PageSize, consumer));
        await MeasureAsync($"first page of {PageSize}, one person", () => reader.ReadAsync(ProgramKey, grantId, new(Person: "person7@bench.example"), 0, PageSize, consumer));
        return 0;

        async Task<double> MeasureAsync<T>(string name, Func<Task<T>> action)
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
            await output.WriteLineAsync($"  {name,-56} median {times[times.Count / 2],8:N1} ms   (min {times[0]:N1}, max {times[^1]:N1})");
            return times[times.Count / 2];
        }
    }

    /// <summary>
    /// The program, its people and their data keys, an approved grant on keystrokes and mouse movements, and the
    /// records inserted in batches with the secondary indexes of <c>records</c> dropped during the load.
    /// </summary>
    private static async Task<(long GrantId, Actor Consumer)> BuildAsync(IServiceProvider services, int records, TextWriter output)
    {
        var connections = services.GetRequiredService<ConnectionFactory>();
        var tool = new Actor("gp bench", [Roles.PrivacyOfficer]);
        var editor = services.GetRequiredService<ProgramEditor>();
        await editor.RegisterAsync(new ProgramDraft(ProgramKey, "Benchmark program", "Measures reads under a grant.", "Portal team", LegalBasis.Consent), tool);
        foreach (var category in Categories)
            await editor.AddCategoryAsync(ProgramKey, new CategoryDraft(category, category, "", "medium", 365), tool);
        var program = (await services.GetRequiredService<ProgramQueries>().GetAsync(ProgramKey))!;
        var categoryIds = program.Categories.Select(c => c.Id).ToArray();

        long[] people;
        Dictionary<(long Subject, long Category), DataKey> keys;
        long grantId;
        Actor consumer;
        IReadOnlyList<string> indexes;
        await using (var scope = await connections.BeginWriteAsync())
        {
            var now = DateTimeOffset.UtcNow;
            var consumerId = await scope.ExecuteScalarAsync<long>(
                "INSERT INTO subjects (email, display_name, created_at) VALUES ('consumer@bench.example', 'Consumer', @now) RETURNING id", new { now });
            consumer = new Actor("consumer@bench.example", [Roles.DataConsumer, Roles.Employee], consumerId);
            people = new long[People];
            for (var i = 0; i < People; i++)
                people[i] = await scope.ExecuteScalarAsync<long>(
                    "INSERT INTO subjects (email, display_name, created_at) VALUES (@email, @email, @now) RETURNING id", new { email = $"person{i}@bench.example", now });
            keys = (await services.GetRequiredService<DataKeyStore>().GetOrCreateManyAsync(scope,
                    people.SelectMany(p => categoryIds.Select(c => new DataKeyScope(p, program.Id, c))).ToList()))
                .Values.ToDictionary(key => (key.Scope.SubjectId, key.Scope.CategoryId));
            grantId = await scope.ExecuteScalarAsync<long>("""
                INSERT INTO grants (principal_kind, principal, principal_subject_id, program_id, purpose, justification, requested_by, requested_at, approved_by, approved_at, expires_at)
                VALUES ('user', 'consumer@bench.example', @consumerId, @programId, 'Measure the assistant against real typing and pointer use', 'benchmark',
                        'consumer@bench.example', @now, 'gp bench', @now, @expires)
                RETURNING id
                """, new { consumerId, programId = program.Id, now, expires = now.AddDays(30) });
            foreach (var category in categoryIds.Take(2))
                await scope.ExecuteAsync("INSERT INTO grant_categories (grant_id, category_id) VALUES (@grantId, @category)", new { grantId, category });
            indexes = await BulkRecordLoad.DropIndexesAsync(scope);
            await scope.CommitAsync();
        }

        var end = StoredTime.Normalize(DateTimeOffset.UtcNow);
        var start = end - Span;
        var step = Span.Ticks / records;
        var payload = """{"app":"outlook.exe","window":"RE: Quarterly planning - Outlook","text":"Thanks, I will send the revised forecast by Thursday.","keys":160}""";
        var batches = Channel.CreateBounded<RecordRow[]>(4);
        var producer = Task.Run(async () =>
        {
            var random = new Random(11);
            var ciphers = keys.Values.ToDictionary(key => key.Id, key => new AesGcm(key.Key, Aead.TagSize));
            try
            {
                for (var first = 0; first < records; first += BatchSize)
                {
                    var rows = new RecordRow[Math.Min(BatchSize, records - first)];
                    for (var i = 0; i < rows.Length; i++)
                    {
                        var capturedAt = StoredTime.Normalize(start.AddTicks(step * (first + i)));
                        var key = keys[(people[random.Next(people.Length)], categoryIds[random.Next(categoryIds.Length)])];
                        var (nonce, sealedPayload) = RecordPayloads.Seal(ciphers[key.Id], key, capturedAt, payload);
                        rows[i] = new RecordRow(program.Id, key.Scope.CategoryId, key.Scope.SubjectId, null, key.Id, capturedAt, capturedAt, nonce, sealedPayload);
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

        await BulkRecordLoad.WriteAsync(connections, batches.Reader, producer, output, 1_000_000);

        await BulkRecordLoad.RestoreIndexesAsync(connections, indexes);
        return (grantId, consumer);
    }
}
