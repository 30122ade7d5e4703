using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

public sealed class CollectionServiceTests : DatabaseTests
{
    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    /// <summary>A program registered at the epoch, collected into a day later.</summary>
    private async Task<(TestDatabase Db, CollectingProgram Program)> StartAsync(Engine engine, params string[] categories)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var program = await ProgramAsync(db.Services, "mci", categories.Length == 0 ? ["keystrokes", "transcriptions"] : categories);
        _clock.Advance(TimeSpan.FromDays(1));
        return (db, program);
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private static Task<long> RecordCountAsync(TestDatabase db) => CountAsync(db, "SELECT count(*) FROM records");

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ValidRecords_StoresThemEncryptedForTheSubjectToRead(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        const string Secret = """{"text":"I need to leave at 3 for a doctor appointment"}""";
        var batch = await BatchAsync(
            Record("Alice@Example.com", "keystrokes", Now.AddHours(-2), Secret),
            Record("alice@example.com", "transcriptions", Now.AddHours(-1), """{"text":"standup notes"}"""));

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, batch, null, Cancellation);

        Assert.Equal(2, result.Accepted);
        Assert.Empty(result.Rejected);
        var alice = await SubjectIdAsync(db, "alice@example.com");
        var records = await SampleData.NewestAsync(db, alice, program.Id);
        Assert.Equal(["""{"text":"standup notes"}""", Secret], records.Select(r => r.Payload));
        Assert.Equal([program["transcriptions"], program["keystrokes"]], records.Select(r => r.CategoryId));
        Assert.Equal(Now.AddHours(-2), records[1].CapturedAt);
        Assert.All(records, r => Assert.Equal(Now, r.ReceivedAt));
        await using var connection = await db.OpenAsync();
        var stored = (await connection.QueryAsync<(byte[] Payload, long CollectorId)>("SELECT payload, collector_id FROM records")).ToList();
        Assert.All(stored, row => Assert.DoesNotContain("doctor", Encoding.UTF8.GetString(row.Payload)));
        Assert.All(stored, row => Assert.Equal(program.Collector.CollectorId, row.CollectorId));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_AcceptedRecords_CountForTheCollectorWithItsLastSeenTime(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();

        await service.IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now), Record("bob@example.com", "nope", Now)), null, Cancellation);
        _clock.Advance(TimeSpan.FromMinutes(3));
        await service.IngestAsync(program.Collector, await BatchAsync(Record("bob@example.com", "keystrokes", Now)), null, Cancellation);

        var collector = Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation));
        Assert.Equal(2, collector.RecordsAccepted);
        Assert.Equal(Now, collector.LastSeenAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_UnknownOrRetiredCategory_IsUnknownCategory_AndTheRestIsStored(Engine engine)
    {
        var (db, program) = await StartAsync(engine, "keystrokes", "screen_text");
        await using var _ = db;
        await db.Get<ProgramEditor>().RetireCategoryAsync("mci", "screen_text", Priya, Cancellation);

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record("alice@example.com", "keystrokes", Now),
            Record("alice@example.com", "chat_messages", Now),
            Record("alice@example.com", "screen_text", Now),
            Record("alice@example.com", "Keystrokes", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
        Assert.Equal([new(1, RejectReason.UnknownCategory), new(2, RejectReason.UnknownCategory), new(3, RejectReason.UnknownCategory)], result.Rejected);
        Assert.Equal(1, await RecordCountAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_CapturedAtMoreThanFiveMinutesAheadOrBeforeTheProgram_IsAnInvalidRecord(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record("alice@example.com", "keystrokes", Now + CollectionService.FutureTolerance),
            Record("alice@example.com", "keystrokes", Now + CollectionService.FutureTolerance + TimeSpan.FromSeconds(1)),
            Record("alice@example.com", "keystrokes", Now.AddYears(1)),
            Record("alice@example.com", "keystrokes", program.CreatedAt),
            Record("alice@example.com", "keystrokes", program.CreatedAt.AddMilliseconds(-1)),
            Record("alice@example.com", "keystrokes", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero))), null, Cancellation);

        Assert.Equal(2, result.Accepted);
        Assert.Equal([1, 2, 4, 5], result.Rejected.Select(r => r.Index));
        Assert.All(result.Rejected, r => Assert.Equal(RejectReason.InvalidRecord, r.Reason));
        Assert.Equal(2, await RecordCountAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ShapeRejectionsOfTheBatch_AreMergedInIndexOrder(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var batch = await ReadAsync($$"""
            [{"subject": 1}, {{Record("alice@example.com", "nope", Now).ToJsonString()}},
             {{Record("alice@example.com", "keystrokes", Now).ToJsonString()}}, {"payload": null}]
            """);

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, batch, null, Cancellation);

        Assert.Equal(new Rejection[] { new(0, RejectReason.InvalidRecord), new(1, RejectReason.UnknownCategory), new(3, RejectReason.InvalidRecord) }, result.Rejected);
        Assert.Equal(1, result.Accepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_PausedCategory_IsCategoryPaused_WhileOtherCategoriesAreStored(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        await db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes"], "Keylogging under review", Priya, Cancellation);

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record("alice@example.com", "keystrokes", Now),
            Record("alice@example.com", "transcriptions", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
        Assert.Equal([new Rejection(0, RejectReason.CategoryPaused)], result.Rejected);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM records WHERE category_id = @Id", new { Id = program["keystrokes"] }));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records WHERE category_id = @Id", new { Id = program["transcriptions"] }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_PausedProgram_Is423AndStoresNothingAtAll(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        await db.Get<PauseSwitch>().PauseAsync("mci", [], "Data found readable by all staff", Priya, Cancellation);

        var problem = await Assert.ThrowsAsync<CollectProblem>(async () => await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(Record("new.person@example.com", "keystrokes", Now)), "retry-1", Cancellation));

        Assert.Equal(423, problem.Status);
        Assert.Contains("paused", problem.Message);
        Assert.Equal(0, await RecordCountAsync(db));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM data_keys"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM collect_requests"));
        Assert.Null(await db.Get<CollectionService>().PreviousAnswerAsync(program.Collector, "retry-1", null, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ResumedProgram_StoresAgain(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var pause = await db.Get<PauseSwitch>().PauseAsync("mci", [], "Leak", Priya, Cancellation);
        await db.Get<PauseSwitch>().ResumeAsync("mci", pause.Id, "Access fixed", Omar, Cancellation);

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_RetiredProgram_Is423AndStoresNothing(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        await db.Get<ProgramEditor>().RetireAsync("mci", Priya, Cancellation);

        var problem = await Assert.ThrowsAsync<CollectProblem>(async () => await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(Record("alice@example.com", "keystrokes", Now)), null, Cancellation));

        Assert.Equal(423, problem.Status);
        Assert.Contains("retired", problem.Message);
        Assert.Equal(0, await RecordCountAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SubjectRevokedFromTheProgram_IsSubjectRevokedInEveryCategory(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
        var carol = await SubjectIdAsync(db, "carol@example.com");
        await db.Get<Revocations>().RevokeAsync(carol, "mci", null, Alice with { Name = "carol@example.com", SubjectId = carol }, Cancellation);

        var result = await service.IngestAsync(program.Collector, await BatchAsync(
            Record("carol@example.com", "keystrokes", Now),
            Record("CAROL@example.com", "transcriptions", Now),
            Record("alice@example.com", "keystrokes", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
        Assert.Equal([new(0, RejectReason.SubjectRevoked), new(1, RejectReason.SubjectRevoked)], result.Rejected);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records WHERE subject_id = @Carol", new { Carol = carol }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SubjectRevokedFromOneCategory_IsRefusedThereOnly(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
        var carol = await SubjectIdAsync(db, "carol@example.com");
        await db.Get<Revocations>().RevokeAsync(carol, "mci", "keystrokes", Alice with { Name = "carol@example.com", SubjectId = carol }, Cancellation);

        var result = await service.IngestAsync(program.Collector, await BatchAsync(
            Record("carol@example.com", "keystrokes", Now),
            Record("carol@example.com", "transcriptions", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
        Assert.Equal([new Rejection(0, RejectReason.SubjectRevoked)], result.Rejected);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM records WHERE subject_id = @Carol AND category_id = @Id",
            new { Carol = carol, Id = program["transcriptions"] }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SubjectWhoseRevocationWasWithdrawn_IsCollectedAgain(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
        var carol = await SubjectIdAsync(db, "carol@example.com");
        var revocation = await db.Get<Revocations>().RevokeAsync(carol, "mci", null, Alice with { Name = "carol@example.com" }, Cancellation);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE revocations SET withdrawn_at = @Now WHERE id = @Id", new { Now, revocation.Id });

        var result = await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_RevocationInAnotherProgram_DoesNotStopThisOne(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        await ProgramAsync(db.Services, "endpoint-security", "process_events");
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);
        var carol = await SubjectIdAsync(db, "carol@example.com");
        await db.Get<Revocations>().RevokeAsync(carol, "endpoint-security", null, Alice with { Name = "carol@example.com" }, Cancellation);

        var result = await service.IngestAsync(program.Collector, await BatchAsync(Record("carol@example.com", "keystrokes", Now)), null, Cancellation);

        Assert.Equal(1, result.Accepted);
        Assert.Empty(result.Rejected);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SubjectFirstSeenByEmail_IsCreatedAndLinkedWhenThePersonSignsIn(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;

        await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(
            Record("  Erin.Walsh@Example.COM ", "keystrokes", Now.AddMinutes(-2)),
            Record("erin.walsh@example.com", "transcriptions", Now.AddMinutes(-1))), null, Cancellation);

        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM subjects WHERE email = 'erin.walsh@example.com' AND external_id IS NULL AND last_sign_in_at IS NULL"));
        var collected = await SubjectIdAsync(db, "erin.walsh@example.com");
        var signedIn = await db.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|erin", "erin.walsh@example.com", EmailVerified: true, "Erin Walsh"), Cancellation);
        Assert.Equal(collected, signedIn.Id);
        Assert.Equal("idp|erin", signedIn.ExternalId);
        var holdings = Assert.Single(await db.Get<MyDataSummary>().ForSubjectAsync(signedIn.Id, Cancellation));
        Assert.Equal("mci", holdings.Program.Key);
        Assert.Equal(2, holdings.RecordCount);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SubjectNamedByIdentityProviderId_IsThePersonWhoSignsInWithIt(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;

        await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record("idp|frank", "keystrokes", Now)), null, Cancellation);
        var signedIn = await db.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|frank", "frank@example.com", EmailVerified: true, "Frank"), Cancellation);

        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal("frank@example.com", signedIn.Email);
        Assert.Single(await SampleData.NewestAsync(db, signedIn.Id, program.Id));
        var again = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record("Frank@Example.com", "keystrokes", Now)), null, Cancellation);
        Assert.Equal(1, again.Accepted);
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(2, (await SampleData.NewestAsync(db, signedIn.Id, program.Id)).Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SameIdempotencyKeyTwice_StoresOnceAndAnswersTheFirstAnswerAgain(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        var batch = await BatchAsync(Record("alice@example.com", "keystrokes", Now), Record("alice@example.com", "nope", Now));
        var first = await service.IngestAsync(program.Collector, batch, "batch-0001", Cancellation);
        _clock.Advance(TimeSpan.FromHours(23));

        var previous = await service.PreviousAnswerAsync(program.Collector, "batch-0001", batch.BodySha256, Cancellation);
        var retried = await service.IngestAsync(program.Collector, batch, "batch-0001", Cancellation);

        Assert.Equal(1, first.Accepted);
        Assert.Equal([new Rejection(1, RejectReason.UnknownCategory)], first.Rejected);
        foreach (var answer in new[] { previous!, retried })
        {
            Assert.Equal(first.Accepted, answer.Accepted);
            Assert.Equal(first.Rejected, answer.Rejected);
        }
        Assert.Equal(1, await RecordCountAsync(db));
        Assert.Equal(1, Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation)).RecordsAccepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ByACollectorRevokedAfterItsTokenWasChecked_Is401AndStoresNothing(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var batch = await BatchAsync(Record("new.person@example.com", "keystrokes", Now));
        await db.Get<CollectorRegistry>().RevokeAsync(program.Key, program.Collector.CollectorId, Omar, Cancellation);

        var problem = await Assert.ThrowsAsync<CollectProblem>(() => db.Get<CollectionService>().IngestAsync(program.Collector, batch, "after-revocation", Cancellation));

        Assert.Equal(401, problem.Status);
        Assert.Equal(0, await RecordCountAsync(db));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM collect_requests"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_IdempotencyKeyReusedWithADifferentBody_Is422AndStoresNothing(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now)), "batch-0001", Cancellation);
        _clock.Advance(TimeSpan.FromHours(23));
        var other = await BatchAsync(Record("bob@example.com", "keystrokes", Now));

        var asked = await Assert.ThrowsAsync<CollectProblem>(() => service.PreviousAnswerAsync(program.Collector, "batch-0001", other.BodySha256, Cancellation));
        var sent = await Assert.ThrowsAsync<CollectProblem>(() => service.IngestAsync(program.Collector, other, "batch-0001", Cancellation));

        Assert.Equal(422, asked.Status);
        Assert.Equal(422, sent.Status);
        Assert.Contains("Idempotency-Key", sent.Message);
        Assert.Equal(1, await RecordCountAsync(db));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM subjects WHERE email = 'bob@example.com'"));
        Assert.Equal(1, Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation)).RecordsAccepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task PurgeJob_StoredAnswersOlderThan24Hours_AreDeleted_AndNewerOnesStillAnswerRetries(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        var old = await BatchAsync(Record("alice@example.com", "keystrokes", Now));
        await service.IngestAsync(program.Collector, old, "yesterday", Cancellation);
        _clock.Advance(TimeSpan.FromHours(12));
        var recent = await BatchAsync(Record("bob@example.com", "keystrokes", Now));
        await service.IngestAsync(program.Collector, recent, "this-morning", Cancellation);
        _clock.Advance(TimeSpan.FromHours(12) + TimeSpan.FromSeconds(1));
        var job = ActivatorUtilities.CreateInstance<StoredAnswerPurgeJob>(db.Services);

        await job.RunAsync(Cancellation);
        await job.RunAsync(Cancellation);

        Assert.Equal(["this-morning"], await KeysAsync(db));
        Assert.Equal(1, (await service.PreviousAnswerAsync(program.Collector, "this-morning", recent.BodySha256, Cancellation))!.Accepted);
        Assert.Null(await service.PreviousAnswerAsync(program.Collector, "yesterday", old.BodySha256, Cancellation));
        Assert.Equal(2, await RecordCountAsync(db));
    }

    private static async Task<IReadOnlyList<string>> KeysAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.QueryAsync<string>("SELECT idempotency_key FROM collect_requests ORDER BY idempotency_key")).ToList();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_RetriesWithTheSameKeyRacingEachOtherOnTwoNodes_StoreOnceAndAllGetTheSameAnswer(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        await using var secondNode = db.BuildServices();
        var services = new[] { db.Get<CollectionService>(), secondNode.GetRequiredService<CollectionService>() };
        var batch = await BatchAsync(Enumerable.Range(0, 40).Select(i => (JsonNode)Record($"racer.{i}@example.com", i % 5 == 0 ? "nope" : "keystrokes", Now)).ToArray());
        using var start = new Barrier(4);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(retry => Task.Run(async () =>
        {
            start.SignalAndWait(Cancellation);
            return await services[retry % 2].IngestAsync(program.Collector, batch, "flaky-network-7", Cancellation);
        })));

        Assert.All(answers, answer =>
        {
            Assert.Equal(32, answer.Accepted);
            Assert.Equal(answers[0].Rejected, answer.Rejected);
        });
        Assert.Equal(32, await RecordCountAsync(db));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM collect_requests"));
        Assert.Equal(32, Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation)).RecordsAccepted);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_IdempotencyKeyOlderThan24Hours_IsProcessedAgain(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var service = db.Get<CollectionService>();
        await service.IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now)), "nightly", Cancellation);
        _clock.Advance(CollectionService.IdempotencyWindow + TimeSpan.FromSeconds(1));

        Assert.Null(await service.PreviousAnswerAsync(program.Collector, "nightly", null, Cancellation));
        var laterBatch = await BatchAsync(Record("alice@example.com", "keystrokes", Now), Record("bob@example.com", "keystrokes", Now));
        var later = await service.IngestAsync(program.Collector, laterBatch, "nightly", Cancellation);
        var retryOfLater = await service.IngestAsync(program.Collector, laterBatch, "nightly", Cancellation);

        Assert.Equal(2, later.Accepted);
        Assert.Equal(2, retryOfLater.Accepted);
        Assert.Equal(3, await RecordCountAsync(db));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM collect_requests"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_SameIdempotencyKeyFromAnotherCollector_IsItsOwnRequest(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;
        var registry = db.Get<CollectorRegistry>();
        var (_, token) = await registry.CreateAsync("mci", "meeting bot", Priya, Cancellation);
        var meetingBot = (await registry.AuthenticateAsync(token, Cancellation))!;
        var service = db.Get<CollectionService>();

        await service.IngestAsync(program.Collector, await BatchAsync(Record("alice@example.com", "keystrokes", Now)), "1", Cancellation);
        var other = await service.IngestAsync(meetingBot, await BatchAsync(Record("alice@example.com", "transcriptions", Now), Record("bob@example.com", "transcriptions", Now)), "1", Cancellation);

        Assert.Equal(2, other.Accepted);
        Assert.Equal(3, await RecordCountAsync(db));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_EmptyBatch_StoresNothingAndSucceeds(Engine engine)
    {
        var (db, program) = await StartAsync(engine);
        await using var _ = db;

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector, await ReadAsync("[]"), null, Cancellation);

        Assert.Equal(0, result.Accepted);
        Assert.Empty(result.Rejected);
        Assert.Null(Assert.Single(await db.Get<CollectorRegistry>().ListAsync("mci", Cancellation)).LastSeenAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Status_NamesTheProgramItsStateAndPausedCategories_AndFollowsPausesAtOnce(Engine engine)
    {
        var (db, program) = await StartAsync(engine, "keystrokes", "transcriptions", "mouse_movements");
        await using var _ = db;
        var service = db.Get<CollectionService>();
        var pauses = db.Get<PauseSwitch>();

        var before = await service.StatusAsync(program.Collector, Cancellation);
        var categoryPause = await pauses.PauseAsync("mci", ["transcriptions", "keystrokes"], "Review", Priya, Cancellation);
        var categoriesPaused = await service.StatusAsync(program.Collector, Cancellation);
        var wholePause = await pauses.PauseAsync("mci", [], "Leak", Priya, Cancellation);
        var wholePaused = await service.StatusAsync(program.Collector, Cancellation);
        await pauses.ResumeAsync("mci", wholePause.Id, "Fixed", Omar, Cancellation);
        await pauses.ResumeAsync("mci", categoryPause.Id, "Reviewed", Omar, Cancellation);
        var after = await service.StatusAsync(program.Collector, Cancellation);

        Assert.Equal(("mci", ProgramState.Active), (before.Program, before.State));
        Assert.Empty(before.PausedCategories);
        Assert.Equal(ProgramState.Active, categoriesPaused.State);
        Assert.Equal(["keystrokes", "transcriptions"], categoriesPaused.PausedCategories);
        Assert.Equal(ProgramState.Paused, wholePaused.State);
        Assert.Equal(["keystrokes", "transcriptions"], wholePaused.PausedCategories);
        Assert.Equal(ProgramState.Active, after.State);
        Assert.Empty(after.PausedCategories);
    }
}
