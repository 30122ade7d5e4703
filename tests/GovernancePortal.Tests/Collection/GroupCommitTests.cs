using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

/// <summary>
/// Group commit (docs/PERFORMANCE.md, "Collection endpoint"): on SQLite the batches that wait for the single writer
/// together are written in one transaction, each in its own savepoint. The tests hold the writer (a write scope
/// left open) while they send, so on SQLite the batches queue and are written as one group; PostgreSQL writes each
/// batch in its own transaction, and the same answers must hold there. Either way every batch keeps its own switch
/// checks and its own answer, and a refused batch stores nothing.
/// </summary>
public sealed class GroupCommitTests : DatabaseTests
{
    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private sealed record Sent(int Status, CollectResult? Result);

    private static async Task<Sent> AnswerOf(Task<CollectResult> ingest)
    {
        try
        {
            return new Sent(200, await ingest);
        }
        catch (CollectProblem problem)
        {
            return new Sent(problem.Status, null);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CoalescedBatches_PauseWaitingBetweenThem_EachBatchIsWhollyBeforeItOrRefused_AndNothingIsStoredAfterIt(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes");
        var service = db.Get<CollectionService>();
        Task<CollectResult> first, second;
        Task<Pause> pause;
        await using (var writer = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            first = service.IngestAsync(program.Collector, await BatchAsync(Record("first@example.com", "keystrokes", Now), Record("first@example.com", "keystrokes", Now)), "first", Cancellation);
            pause = Task.Run(() => db.Get<PauseSwitch>().PauseAsync("mci", [], "Transcripts were readable by all staff", Priya, Cancellation));
            await Task.Delay(200, Cancellation);
            second = service.IngestAsync(program.Collector, await BatchAsync(Record("second@example.com", "keystrokes", Now)), "second", Cancellation);
        }

        var paused = await pause;
        var answers = new[] { await AnswerOf(first), await AnswerOf(second) };
        var after = await AnswerOf(service.IngestAsync(program.Collector, await BatchAsync(Record("third@example.com", "keystrokes", Now)), "third", Cancellation));

        Assert.Equal(423, after.Status);
        string[] people = ["first@example.com", "second@example.com"];
        string[] keys = ["first", "second"];
        int[] sizes = [2, 1];
        for (var i = 0; i < answers.Length; i++)
        {
            if (answers[i].Status == 200)
            {
                Assert.Equal(sizes[i], answers[i].Result!.Accepted);
                Assert.Equal(sizes[i], await CountAsync(db, "SELECT count(*) FROM records r JOIN subjects s ON s.id = r.subject_id WHERE s.email = @Person AND r.received_at < @At",
                    new { Person = people[i], At = paused.PausedAt }));
            }
            else
            {
                Assert.Equal(423, answers[i].Status);
                Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects WHERE email = @Person", new { Person = people[i] }));
                Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM collect_requests WHERE idempotency_key = @Key", new { Key = keys[i] }));
            }
        }
        if (engine == Engine.Sqlite)
            // Both waited for the writer, so both were in the one group the writer wrote: on the same side of the pause.
            Assert.Equal(answers[0].Status, answers[1].Status);
        Assert.Equal(answers.Sum(a => a.Result?.Accepted ?? 0), await CountAsync(db, "SELECT count(*) FROM records"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM records WHERE received_at >= @At", new { At = paused.PausedAt }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CoalescedBatches_OneFromARevokedCollector_Is401AndStoresNothing_AndTheOtherIsStored(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes");
        var registry = db.Get<CollectorRegistry>();
        var (bot, token) = await registry.CreateAsync("mci", "meeting bot", Priya, Cancellation);
        var meetingBot = (await registry.AuthenticateAsync(token, Cancellation))!;
        await registry.RevokeAsync("mci", bot.Id, Omar, Cancellation);
        var service = db.Get<CollectionService>();
        Task<CollectResult> kept, dropped;
        await using (var writer = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            kept = service.IngestAsync(program.Collector, await BatchAsync(Record("kept@example.com", "keystrokes", Now)), "kept", Cancellation);
            dropped = service.IngestAsync(meetingBot, await BatchAsync(Record("dropped@example.com", "keystrokes", Now)), "dropped", Cancellation);
        }

        Assert.Equal(1, (await kept).Accepted);
        Assert.Equal(401, (await AnswerOf(dropped)).Status);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects WHERE email = 'dropped@example.com'"));
        Assert.Equal(["kept"], (await KeysAsync(db)));
        var collectors = await registry.ListAsync("mci", Cancellation);
        Assert.Equal(1, collectors.Single(c => c.Id == program.Collector.CollectorId).RecordsAccepted);
        Assert.Equal(0, collectors.Single(c => c.Id == bot.Id).RecordsAccepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CoalescedBatches_NamingARevokedSubject_RefuseJustThatPersonsRecords(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes");
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
        var carol = await SubjectIdAsync(db, "carol@example.com");
        await db.Get<Revocations>().RevokeAsync(carol, "mci", null, Alice with { Name = "carol@example.com", SubjectId = carol }, Cancellation);
        Task<CollectResult> first, second;
        await using (var writer = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            first = service.IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now), Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
            second = service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now), Record("dan@example.com", "keystrokes", Now)), null, Cancellation);
        }

        var (a, b) = (await first, await second);
        Assert.Equal(1, a.Accepted);
        Assert.Equal([new Rejection(1, RejectReason.SubjectRevoked)], a.Rejected);
        Assert.Equal(1, b.Accepted);
        Assert.Equal([new Rejection(0, RejectReason.SubjectRevoked)], b.Rejected);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records WHERE subject_id = @Carol", new { Carol = carol }));
        Assert.Equal(3, await CountAsync(db, "SELECT count(*) FROM records"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CoalescedRetries_OfOneKey_StoreOneBodyOnce_TheSameBodyGetsItsAnswer_AndAnotherBodyIs422(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes");
        var service = db.Get<CollectionService>();
        var batch = await BatchAsync(Record("alice@example.com", "keystrokes", Now), Record("bob@example.com", "nope", Now), Record("bob@example.com", "keystrokes", Now));
        var otherBody = await BatchAsync(Record("mallory@example.com", "keystrokes", Now));
        Task<CollectResult>[] sent;
        await using (var writer = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            sent =
            [
                service.IngestAsync(program.Collector, batch, "batch-17", Cancellation),
                service.IngestAsync(program.Collector, batch, "batch-17", Cancellation),
                service.IngestAsync(program.Collector, otherBody, "batch-17", Cancellation),
            ];
        }

        var answers = new List<Sent>();
        foreach (var ingest in sent)
            answers.Add(await AnswerOf(ingest));
        var stored = await CountAsync(db, "SELECT count(*) FROM records");
        if (answers[2].Status == 200)
        {
            // PostgreSQL only: the other body's transaction may commit first; then the key is its.
            Assert.NotEqual(Engine.Sqlite, engine);
            Assert.All(answers.Take(2), answer => Assert.Equal(422, answer.Status));
            Assert.Equal(1, stored);
        }
        else
        {
            Assert.Equal(422, answers[2].Status);
            Assert.All(answers.Take(2), answer =>
            {
                Assert.Equal(200, answer.Status);
                Assert.Equal(2, answer.Result!.Accepted);
                Assert.Equal([new Rejection(1, RejectReason.UnknownCategory)], answer.Result.Rejected);
            });
            Assert.Equal(2, stored);
            Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects WHERE email = 'mallory@example.com'"));
        }
        Assert.Equal(["batch-17"], await KeysAsync(db));
        Assert.Equal(stored, Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation)).RecordsAccepted);
    }

    private static async Task<IReadOnlyList<string>> KeysAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT idempotency_key FROM collect_requests ORDER BY idempotency_key")).ToList();
    }
}
