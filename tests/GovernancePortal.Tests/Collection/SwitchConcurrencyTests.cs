using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

/// <summary>
/// docs/architecture.md "Switches that hold on every node": four writers on two nodes stream batches into one program while
/// a third node flips switches (pauses, resumes, a subject's or a collector's revocation) one after another. Afterwards:
/// <list type="bullet">
/// <item>no stored record in a switch's scope has a received time after that switch's commit time
/// (for a pause: between its pause and its resume);</item>
/// <item>every batch that began after a switch returned and ended before the next one began was
/// answered exactly as that switch says (refused in scope, accepted elsewhere);</item>
/// <item>every record a writer was told was accepted is in the table, and nothing else.</item>
/// </list>
/// Each test flips several switches, because a race that breaks linearizability shows up only when a
/// commit lands inside a writer's transaction: every flip is another chance to catch it.
/// </summary>
public sealed class SwitchConcurrencyTests : DatabaseTests
{
    private const int Writers = 4;
    private const int RecordsPerBatch = 24;
    private const int BatchesPerWindow = 5;
    private const string Carol = "carol@example.com";
    private const string Dan = "dan@example.com";
    private const string Bob = "bob@example.com";
    private static readonly string[] People = ["alice@example.com", Bob, Carol, Dan];
    private static readonly string[] Categories = ["keystrokes", "transcriptions"];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>One batch a writer sent: its records, and either the answer or the status it was refused with.</summary>
    private sealed record Attempt(int Writer, long StartedAt, long EndedAt, IReadOnlyList<IncomingRecord> Records, CollectResult? Result, int? RefusedWith);

    private sealed record Flip(long StartedAt, long ReturnedAt);

    private sealed record Run(IReadOnlyList<Attempt> Attempts, IReadOnlyList<Flip> Flips)
    {
        /// <summary>
        /// The batches that ran wholly after flip <paramref name="after"/> returned and before the next flip
        /// began (-1: before the first flip): linearizability says each saw exactly that flip's effect.
        /// </summary>
        public IReadOnlyList<Attempt> Window(int after) => Attempts
            .Where(a => after < 0 || a.StartedAt > Flips[after].ReturnedAt)
            .Where(a => after + 1 == Flips.Count || a.EndedAt < Flips[after + 1].StartedAt)
            .ToList();

        public long AcceptedInTotal => Attempts.Sum(a => (long)(a.Result?.Accepted ?? 0));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Pause_WhileWritersStream_AcceptsNothingAfterCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        await using var officersNode = db.BuildServices();
        var pauses = officersNode.GetRequiredService<PauseSwitch>();
        var (program, warmUp) = await WarmedUpProgramAsync(db);
        var ids = new List<long>();

        var run = await StreamAroundAsync([db.Services, secondNode], [program.Collector],
        [
            async () => ids.Add((await pauses.PauseAsync(program.Key, [], "Transcripts were readable by all staff", Priya)).Id),
            () => pauses.ResumeAsync(program.Key, ids[^1], "Access narrowed", Omar),
            async () => ids.Add((await pauses.PauseAsync(program.Key, [], "Second leak", Omar)).Id),
            () => pauses.ResumeAsync(program.Key, ids[^1], "Closed", Priya),
            async () => ids.Add((await pauses.PauseAsync(program.Key, [], "Third leak", Priya)).Id),
        ]);

        AssertWindow(run, -1, _ => null);
        for (var flip = 0; flip < run.Flips.Count; flip++)
        {
            if (flip % 2 == 0)
                AssertWindowRefusedWith423(run, flip);
            else
                AssertWindow(run, flip, _ => null);
        }
        var windows = await PauseWindowsAsync(db, ids);
        foreach (var (from, until) in windows)
            Assert.Equal(0, await RecordsAsync(db, "program_id = @Program AND received_at > @From AND received_at < @Until", new { Program = program.Id, From = from, Until = until }));
        AssertStoredBeforeTheFirstFlip(await RecordsAsync(db, "program_id = @Program AND received_at <= @At", new { Program = program.Id, At = windows[0].From }), warmUp, RecordsPerBatch);
        Assert.Equal(warmUp + run.AcceptedInTotal, await RecordsAsync(db, "program_id = @Program", new { Program = program.Id }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CategoryPause_WhileWritersStream_AcceptsNothingInThatCategoryAfterCommit_AndTheRestFlows(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        await using var officersNode = db.BuildServices();
        var pauses = officersNode.GetRequiredService<PauseSwitch>();
        var (program, warmUp) = await WarmedUpProgramAsync(db);
        var ids = new List<long>();

        var run = await StreamAroundAsync([db.Services, secondNode], [program.Collector],
        [
            async () => ids.Add((await pauses.PauseAsync(program.Key, ["keystrokes"], "Keylogging under review", Priya)).Id),
            () => pauses.ResumeAsync(program.Key, ids[^1], "Reviewed", Omar),
            async () => ids.Add((await pauses.PauseAsync(program.Key, ["keystrokes"], "Second review", Omar)).Id),
            () => pauses.ResumeAsync(program.Key, ids[^1], "Reviewed again", Priya),
            async () => ids.Add((await pauses.PauseAsync(program.Key, ["keystrokes"], "Third review", Priya)).Id),
        ]);

        AssertWindow(run, -1, _ => null);
        for (var flip = 0; flip < run.Flips.Count; flip++)
            AssertWindow(run, flip, record => flip % 2 == 0 && record.Category == "keystrokes" ? RejectReason.CategoryPaused : null);
        var keystrokes = new { Program = program.Id, Category = program["keystrokes"] };
        var windows = await PauseWindowsAsync(db, ids);
        foreach (var window in windows)
        {
            const string Within = "program_id = @Program AND category_id = @Category AND received_at > @From AND received_at < @Until";
            Assert.Equal(0, await RecordsAsync(db, Within, new { keystrokes.Program, keystrokes.Category, window.From, window.Until }));
            Assert.True(await RecordsAsync(db, Within, new { keystrokes.Program, Category = program["transcriptions"], window.From, window.Until }) > 0,
                "the other category kept being collected during the pause");
        }
        AssertStoredBeforeTheFirstFlip(await RecordsAsync(db, "program_id = @Program AND category_id = @Category AND received_at <= @At",
            new { keystrokes.Program, keystrokes.Category, At = windows[0].From }), warmUp / 2, RecordsPerBatch / 2);
        Assert.Equal(warmUp + run.AcceptedInTotal, await RecordsAsync(db, "program_id = @Program", keystrokes));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Revocation_WhileWritersStream_AcceptsNothingOfThatSubjectAfterCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        await using var subjectsNode = db.BuildServices();
        var revocations = subjectsNode.GetRequiredService<Revocations>();
        var (program, warmUp) = await WarmedUpProgramAsync(db);
        var carol = await SubjectIdAsync(db, Carol);
        var dan = await SubjectIdAsync(db, Dan);
        var bob = await SubjectIdAsync(db, Bob);
        var ids = new List<long>();

        var run = await StreamAroundAsync([db.Services, secondNode], [program.Collector],
        [
            async () => ids.Add((await revocations.RevokeAsync(carol, program.Key, null, Alice with { Name = Carol, SubjectId = carol })).Id),
            async () => ids.Add((await revocations.RevokeAsync(dan, program.Key, null, Alice with { Name = Dan, SubjectId = dan })).Id),
            async () => ids.Add((await revocations.RevokeAsync(bob, program.Key, null, Alice with { Name = Bob, SubjectId = bob })).Id),
        ]);

        AssertWindow(run, -1, _ => null);
        AssertWindow(run, 0, record => record.Subject == Carol ? RejectReason.SubjectRevoked : null);
        AssertWindow(run, 1, record => record.Subject is Carol or Dan ? RejectReason.SubjectRevoked : null);
        AssertWindow(run, 2, record => record.Subject is Carol or Dan or Bob ? RejectReason.SubjectRevoked : null);
        var revokedAt = await RevokedAtAsync(db, ids);
        foreach (var (subject, at) in new[] { (carol, revokedAt[0]), (dan, revokedAt[1]), (bob, revokedAt[2]) })
        {
            var scope = new { Program = program.Id, Subject = subject, At = at };
            Assert.Equal(0, await RecordsAsync(db, "program_id = @Program AND subject_id = @Subject AND received_at > @At", scope));
            AssertStoredBeforeTheFirstFlip(await RecordsAsync(db, "program_id = @Program AND subject_id = @Subject AND received_at <= @At", scope), warmUp / 4, RecordsPerBatch / 4);
        }
        Assert.True(await RecordsAsync(db, "program_id = @Program AND subject_id NOT IN (@Carol, @Dan, @Bob) AND received_at > @At",
            new { Program = program.Id, Carol = carol, Dan = dan, Bob = bob, At = revokedAt[2] }) > 0, "the other subject kept being collected after the revocations");
        Assert.Equal(warmUp + run.AcceptedInTotal, await RecordsAsync(db, "program_id = @Program", new { Program = program.Id }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CategoryRevocation_WhileWritersStream_AcceptsNothingOfThatSubjectInThatCategoryAfterCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        await using var subjectsNode = db.BuildServices();
        var revocations = subjectsNode.GetRequiredService<Revocations>();
        var (program, warmUp) = await WarmedUpProgramAsync(db);
        var carol = await SubjectIdAsync(db, Carol);
        var dan = await SubjectIdAsync(db, Dan);
        var bob = await SubjectIdAsync(db, Bob);
        var ids = new List<long>();

        var run = await StreamAroundAsync([db.Services, secondNode], [program.Collector],
        [
            async () => ids.Add((await revocations.RevokeAsync(carol, program.Key, "transcriptions", Alice with { Name = Carol, SubjectId = carol })).Id),
            async () => ids.Add((await revocations.RevokeAsync(dan, program.Key, "keystrokes", Alice with { Name = Dan, SubjectId = dan })).Id),
            async () => ids.Add((await revocations.RevokeAsync(bob, program.Key, "transcriptions", Alice with { Name = Bob, SubjectId = bob })).Id),
        ]);

        static bool CarolsTranscriptions(IncomingRecord r) => r is { Subject: Carol, Category: "transcriptions" };
        static bool DansKeystrokes(IncomingRecord r) => r is { Subject: Dan, Category: "keystrokes" };
        static bool BobsTranscriptions(IncomingRecord r) => r is { Subject: Bob, Category: "transcriptions" };
        AssertWindow(run, -1, _ => null);
        AssertWindow(run, 0, record => CarolsTranscriptions(record) ? RejectReason.SubjectRevoked : null);
        AssertWindow(run, 1, record => CarolsTranscriptions(record) || DansKeystrokes(record) ? RejectReason.SubjectRevoked : null);
        AssertWindow(run, 2, record => CarolsTranscriptions(record) || DansKeystrokes(record) || BobsTranscriptions(record) ? RejectReason.SubjectRevoked : null);
        var revokedAt = await RevokedAtAsync(db, ids);
        const string After = "program_id = @Program AND subject_id = @Subject AND category_id = @Category AND received_at > @At";
        foreach (var (subject, revoked, kept, at) in new[]
                 {
                     (carol, program["transcriptions"], program["keystrokes"], revokedAt[0]),
                     (dan, program["keystrokes"], program["transcriptions"], revokedAt[1]),
                     (bob, program["transcriptions"], program["keystrokes"], revokedAt[2]),
                 })
        {
            Assert.Equal(0, await RecordsAsync(db, After, new { Program = program.Id, Subject = subject, Category = revoked, At = at }));
            Assert.True(await RecordsAsync(db, After, new { Program = program.Id, Subject = subject, Category = kept, At = at }) > 0,
                "the subject's other category kept being collected after the revocation");
            AssertStoredBeforeTheFirstFlip(await RecordsAsync(db, After.Replace("received_at >", "received_at <=", StringComparison.Ordinal),
                new { Program = program.Id, Subject = subject, Category = revoked, At = at }), warmUp / 8, RecordsPerBatch / 8);
        }
        Assert.Equal(warmUp + run.AcceptedInTotal, await RecordsAsync(db, "program_id = @Program", new { Program = program.Id }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CollectorRevocation_WhileItsRequestsStream_StoresNothingFromItAfterCommit_AndTheOtherCollectorsFlow(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        await using var officersNode = db.BuildServices();
        var registry = officersNode.GetRequiredService<CollectorRegistry>();
        var (program, warmUp) = await WarmedUpProgramAsync(db);
        var collectors = new List<CollectorIdentity> { program.Collector };
        for (var writer = 1; writer < Writers; writer++)
        {
            var (_, token) = await registry.CreateAsync(program.Key, $"agent {writer}", Priya, Cancellation);
            collectors.Add((await registry.AuthenticateAsync(token, Cancellation))!);
        }

        var run = await StreamAroundAsync([db.Services, secondNode], collectors,
        [
            () => registry.RevokeAsync(program.Key, collectors[0].CollectorId, Priya),
            () => registry.RevokeAsync(program.Key, collectors[1].CollectorId, Omar),
            () => registry.RevokeAsync(program.Key, collectors[2].CollectorId, Priya),
        ]);

        AssertWindow(run, -1, _ => null);
        for (var flip = 0; flip < run.Flips.Count; flip++)
            AssertWindowRefusedWith401For(run, flip, writer => writer <= flip);
        var revokedAt = await CollectorsRevokedAtAsync(db, collectors.Take(run.Flips.Count).Select(c => c.CollectorId).ToList());
        for (var revoked = 0; revoked < run.Flips.Count; revoked++)
        {
            var scope = new { Program = program.Id, Collector = collectors[revoked].CollectorId, At = revokedAt[revoked] };
            Assert.Equal(0, await RecordsAsync(db, "program_id = @Program AND collector_id = @Collector AND received_at > @At", scope));
            AssertStoredBeforeTheFirstFlip(await RecordsAsync(db, "program_id = @Program AND collector_id = @Collector AND received_at <= @At", scope),
                revoked == 0 ? warmUp : 0, RecordsPerBatch / Writers);
        }
        Assert.True(await RecordsAsync(db, "program_id = @Program AND collector_id = @Collector AND received_at > @At",
            new { Program = program.Id, Collector = collectors[^1].CollectorId, At = revokedAt[^1] }) > 0, "the collector that was not revoked kept storing");
        Assert.Equal(warmUp + run.AcceptedInTotal, await RecordsAsync(db, "program_id = @Program", new { Program = program.Id }));
    }

    /// <summary>
    /// The program, and one batch naming every subject in every category, so that subjects and data keys
    /// exist before the writers start: the switches are what this class is about.
    /// </summary>
    private static async Task<(CollectingProgram Program, long WarmUp)> WarmedUpProgramAsync(TestDatabase db)
    {
        var program = await ProgramAsync(db.Services, "mci", Categories);
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, new CollectBatch(BatchOf(-1, 0), []), null);
        Assert.Equal(RecordsPerBatch, result.Accepted);
        return (program, result.Accepted);
    }

    /// <summary>Every subject in every category, three times, in an order that differs between writers.</summary>
    private static IReadOnlyList<IncomingRecord> BatchOf(int writer, int round)
    {
        var capturedAt = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, RecordsPerBatch)
            .Select(i => new IncomingRecord(i, People[(i + writer + People.Length) % People.Length], Categories[i / People.Length % Categories.Length], capturedAt,
                $$"""{"writer":{{writer}},"round":{{round}},"i":{{i}}}"""))
            .ToList();
    }

    /// <summary>
    /// Starts the writers (writer w sends as collector w modulo their number) and lets each store <see cref="BatchesPerWindow"/> batches; then flips each switch in
    /// turn, letting every writer send as many batches after each; then stops them.
    /// </summary>
    private static async Task<Run> StreamAroundAsync(IReadOnlyList<IServiceProvider> nodes, IReadOnlyList<CollectorIdentity> collectors, IReadOnlyList<Func<Task>> flips)
    {
        var attempts = new ConcurrentQueue<Attempt>();
        var flipped = new List<Flip>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers)
            .Select(writer => Task.Run(() => WriteAsync(writer, nodes[writer % nodes.Count].GetRequiredService<CollectionService>(), collectors[writer % collectors.Count], attempts, stop.Token)))
            .ToArray();
        try
        {
            await UntilAsync(writers, () => EveryWriterHas(attempts, a => a.Result?.Accepted > 0), "every writer stores records before the first switch");
            foreach (var flip in flips)
            {
                var startedAt = Stopwatch.GetTimestamp();
                await flip();
                var returnedAt = Stopwatch.GetTimestamp();
                flipped.Add(new Flip(startedAt, returnedAt));
                await UntilAsync(writers, () => EveryWriterHas(attempts, a => a.StartedAt > returnedAt), $"every writer sends batches after switch {flipped.Count}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        return new Run(attempts.ToList(), flipped);
    }

    private static bool EveryWriterHas(ConcurrentQueue<Attempt> attempts, Func<Attempt, bool> which) =>
        attempts.Where(which).GroupBy(a => a.Writer).Count(writer => writer.Count() >= BatchesPerWindow) == Writers;

    private static async Task WriteAsync(int writer, CollectionService service, CollectorIdentity collector, ConcurrentQueue<Attempt> attempts, CancellationToken stop)
    {
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            var records = BatchOf(writer, round);
            var startedAt = Stopwatch.GetTimestamp();
            try
            {
                // Not cancelled by stop: a batch in flight finishes, so its answer can be checked against the table.
                var result = await service.IngestAsync(collector, new CollectBatch(records, []), null, CancellationToken.None);
                attempts.Enqueue(new Attempt(writer, startedAt, Stopwatch.GetTimestamp(), records, result, null));
            }
            catch (CollectProblem problem)
            {
                attempts.Enqueue(new Attempt(writer, startedAt, Stopwatch.GetTimestamp(), records, null, problem.Status));
            }
        }
    }

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds; a writer that failed fails the test with its exception.</summary>
    private static async Task UntilAsync(Task[] writers, Func<bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (writers.FirstOrDefault(w => w.IsFaulted) is { } failed)
                await failed;
            if (Stopwatch.GetTimestamp() > deadline)
                Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(5);
        }
    }

    /// <summary>Every writer ran batches in the window, and each was answered: in-scope records refused with their reason, every other one accepted.</summary>
    private static void AssertWindow(Run run, int after, Func<IncomingRecord, string?> refusal)
    {
        var window = run.Window(after);
        Assert.Equal(Writers, window.Select(a => a.Writer).Distinct().Count());
        Assert.All(window, attempt =>
        {
            Assert.True(attempt.Result is not null, $"after switch {after + 1} a batch was refused with {attempt.RefusedWith}");
            var expected = attempt.Records.Select(r => refusal(r) is { } reason ? new Rejection(r.Index, reason) : null).OfType<Rejection>().ToList();
            Assert.Equal(expected, attempt.Result.Rejected);
            Assert.Equal(attempt.Records.Count - expected.Count, attempt.Result.Accepted);
        });
    }

    /// <summary>In the window, the batches of the writers whose collector is revoked were refused with 401, and every other batch was wholly accepted.</summary>
    private static void AssertWindowRefusedWith401For(Run run, int after, Func<int, bool> revoked)
    {
        var window = run.Window(after);
        Assert.Equal(Writers, window.Select(a => a.Writer).Distinct().Count());
        Assert.All(window, attempt =>
        {
            if (revoked(attempt.Writer))
            {
                Assert.True(attempt.RefusedWith == 401,
                    $"after switch {after + 1} writer {attempt.Writer}, whose collector was revoked, was answered {attempt.RefusedWith?.ToString() ?? $"{attempt.Result!.Accepted} accepted"}");
                return;
            }
            Assert.True(attempt.Result is not null, $"after switch {after + 1} writer {attempt.Writer}'s batch was refused with {attempt.RefusedWith}");
            Assert.Empty(attempt.Result.Rejected);
            Assert.Equal(attempt.Records.Count, attempt.Result.Accepted);
        });
    }

    private static void AssertWindowRefusedWith423(Run run, int after)
    {
        var window = run.Window(after);
        Assert.Equal(Writers, window.Select(a => a.Writer).Distinct().Count());
        Assert.All(window, attempt => Assert.Equal(423, attempt.RefusedWith));
    }

    /// <summary>The proof is not vacuous: in the first switch's scope, every writer stored batches before it.</summary>
    private static void AssertStoredBeforeTheFirstFlip(long storedInScope, long warmUpInScope, int inScopePerBatch) =>
        Assert.True(storedInScope >= warmUpInScope + Writers * BatchesPerWindow * inScopePerBatch,
            $"{storedInScope} records in scope were received before the switch; expected at least {warmUpInScope + Writers * BatchesPerWindow * inScopePerBatch}");

    /// <summary>Each pause's commit time and its resume's (or the far future), as stored.</summary>
    private static async Task<IReadOnlyList<(DateTimeOffset From, DateTimeOffset Until)>> PauseWindowsAsync(TestDatabase db, IReadOnlyList<long> pauseIds)
    {
        await using var connection = await db.OpenAsync();
        var windows = new List<(DateTimeOffset, DateTimeOffset)>();
        foreach (var id in pauseIds)
        {
            var pause = await connection.QuerySingleAsync<Pause>("SELECT paused_at AS PausedAt, resumed_at AS ResumedAt FROM pauses WHERE id = @Id", new { Id = id });
            windows.Add((pause.PausedAt, pause.ResumedAt ?? DateTimeOffset.MaxValue.AddYears(-1)));
        }
        return windows;
    }

    private static async Task<IReadOnlyList<DateTimeOffset>> RevokedAtAsync(TestDatabase db, IReadOnlyList<long> revocationIds)
    {
        await using var connection = await db.OpenAsync();
        var times = new List<DateTimeOffset>();
        foreach (var id in revocationIds)
            times.Add(await connection.QuerySingleAsync<DateTimeOffset>("SELECT created_at FROM revocations WHERE id = @Id", new { Id = id }));
        return times;
    }

    private static async Task<IReadOnlyList<DateTimeOffset>> CollectorsRevokedAtAsync(TestDatabase db, IReadOnlyList<long> collectorIds)
    {
        await using var connection = await db.OpenAsync();
        var times = new List<DateTimeOffset>();
        foreach (var id in collectorIds)
            times.Add(await connection.QuerySingleAsync<DateTimeOffset>("SELECT revoked_at FROM collectors WHERE id = @Id", new { Id = id }));
        return times;
    }

    private static Task<long> RecordsAsync(TestDatabase db, string where, object parameters) =>
        CountAsync(db, $"SELECT count(*) FROM records WHERE {where}", parameters);
}
