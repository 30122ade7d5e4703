using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Collection;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Subjects;

/// <summary>A person who withdrew consent gives it again: collection of their data resumes from the commit, and nothing else changes.</summary>
public sealed class RejoinTests : DatabaseTests
{
    private const string Carol = "carol@example.com";
    private const string Dan = "dan@example.com";

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>The consent program mci with a collector, and carol and dan known to it through a first batch.</summary>
    private async Task<(TestDatabase Db, CollectingProgram Program, long Carol, long Dan)> StartAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes", "transcriptions");
        _clock.Advance(TimeSpan.FromDays(1));
        var first = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record(Carol, "keystrokes", Now), Record(Dan, "keystrokes", Now)), null, Cancellation);
        Assert.Equal(2, first.Accepted);
        return (db, program, await SubjectIdAsync(db, Carol), await SubjectIdAsync(db, Dan));
    }

    private static Actor Person(string email, long subjectId) => new(email, [Roles.Employee], subjectId);

    /// <summary>What the collector is told about one record of each (subject, category) pair, in order: null when it was accepted.</summary>
    private async Task<IReadOnlyList<string?>> CollectAsync(TestDatabase db, CollectingProgram program, params (string Subject, string Category)[] records)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(records.Select(r => Record(r.Subject, r.Category, Now)).ToArray()), null, Cancellation);
        return records.Select((_, index) => result.Rejected.FirstOrDefault(r => r.Index == index)?.Reason).ToList();
    }

    private static Task<long> RejoinedEventsAsync(TestDatabase db, long subjectId) =>
        CountAsync(db, "SELECT count(*) FROM audit_events WHERE action = 'subject.rejoined' AND subject_id = @subjectId", new { subjectId });

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_WholeProgramAfterWithdrawal_CollectsTheirRecordsAgain_AndIsAudited(Engine engine)
    {
        var (db, program, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
        Assert.Equal([RejectReason.SubjectRevoked, RejectReason.SubjectRevoked], await CollectAsync(db, program, (Carol, "keystrokes"), (Carol, "transcriptions")));

        var rejoined = await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        Assert.True(rejoined);
        Assert.Equal([null, null], await CollectAsync(db, program, (Carol, "keystrokes"), (Carol, "transcriptions")));
        Assert.Empty(await SampleData.ActiveRevocationsAsync(db, carol));
        await using var connection = await db.OpenAsync();
        var (actor, programKey) = await connection.QuerySingleAsync<(string, string)>(
            "SELECT actor, program FROM audit_events WHERE action = 'subject.rejoined' AND subject_id = @carol", new { carol });
        Assert.Equal((Carol, "mci"), (actor, programKey));
        Assert.False(((await db.Get<MyDataSummary>().ForSubjectAsync(carol, Cancellation)).Single()).RevokedByMe);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_WholeProgram_EndsTheCategoryWithdrawalsToo(Engine engine)
    {
        var (db, program, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", "transcriptions", Person(Carol, carol), Cancellation);
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        Assert.True(await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation));

        Assert.Equal([null, null], await CollectAsync(db, program, (Carol, "keystrokes"), (Carol, "transcriptions")));
        Assert.Empty(await SampleData.ActiveRevocationsAsync(db, carol));
        Assert.Equal(1, await RejoinedEventsAsync(db, carol));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_OneCategory_ResumesThatCategoryAndNoOther(Engine engine)
    {
        var (db, program, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", "keystrokes", Person(Carol, carol), Cancellation);
        await withdrawals.WithdrawAsync(carol, "mci", "transcriptions", Person(Carol, carol), Cancellation);

        Assert.True(await revocations.RejoinAsync(carol, "mci", "keystrokes", Person(Carol, carol), Cancellation));

        Assert.Equal([null, RejectReason.SubjectRevoked], await CollectAsync(db, program, (Carol, "keystrokes"), (Carol, "transcriptions")));
        var still = Assert.Single(await SampleData.ActiveRevocationsAsync(db, carol));
        Assert.Equal(program["transcriptions"], still.CategoryId);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_Twice_IsOneEffectAndOneAuditEvent(Engine engine)
    {
        var (db, program, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        var first = await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
        var second = await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
        var category = await revocations.RejoinAsync(carol, "mci", "keystrokes", Person(Carol, carol), Cancellation);

        Assert.Equal((true, false, false), (first, second, category));
        Assert.Equal(1, await RejoinedEventsAsync(db, carol));
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM revocations WHERE subject_id = @carol AND withdrawn_at IS NOT NULL", new { carol }));
        Assert.Equal([null], await CollectAsync(db, program, (Carol, "keystrokes")));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_ALegitimateInterestProgram_IsRefused_AndTheObjectionKeepsCollectionStopped(Engine engine)
    {
        var (db, _, carol, dan) = await StartAsync(engine);
        await using var _ = db;
        var editor = db.Get<ProgramEditor>();
        await editor.RegisterAsync(new ProgramDraft("endpoint-security", "Endpoint security", "Detect malware", "Security Operations", LegalBasis.LegitimateInterest), Priya, Cancellation);
        await editor.AddCategoryAsync("endpoint-security", new CategoryDraft("process_events", "Process events", "", "medium", 180), Priya, Cancellation);
        var (_, token) = await db.Get<CollectorRegistry>().CreateAsync("endpoint-security", "EDR agent", Priya, Cancellation);
        var edr = await db.Get<CollectorRegistry>().AuthenticateAsync(token, Cancellation) ?? throw new InvalidOperationException("The EDR collector did not authenticate.");
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        var objection = await withdrawals.WithdrawAsync(carol, "endpoint-security", null, Person(Carol, carol), Cancellation);

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => revocations.RejoinAsync(carol, "endpoint-security", null, Person(Carol, carol), Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => revocations.RejoinAsync(carol, "endpoint-security", "process_events", Person(Carol, carol), Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => revocations.RejoinAsync(dan, "endpoint-security", null, Person(Dan, dan), Cancellation));

        Assert.Contains("privacy officers", refusal.Message);
        Assert.Equal(RevocationKind.Objection, objection.Revocation.Kind);
        Assert.Single(await SampleData.ActiveRevocationsAsync(db, carol));
        Assert.Equal(0, await RejoinedEventsAsync(db, carol));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var result = await db.Get<CollectionService>().IngestAsync(edr, await BatchAsync(Record(Carol, "process_events", Now)), null, Cancellation);
        Assert.Equal([new Rejection(0, RejectReason.SubjectRevoked)], result.Rejected);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_OneCategoryWhileTheWholeProgramIsWithdrawn_IsRefused_AndChangesNothing(Engine engine)
    {
        var (db, program, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        var refusal = await Assert.ThrowsAsync<RuleViolation>(() => revocations.RejoinAsync(carol, "mci", "keystrokes", Person(Carol, carol), Cancellation));

        Assert.Contains("whole program", refusal.Message);
        Assert.Single(await SampleData.ActiveRevocationsAsync(db, carol));
        Assert.Equal([RejectReason.SubjectRevoked], await CollectAsync(db, program, (Carol, "keystrokes")));
        Assert.Equal(0, await RejoinedEventsAsync(db, carol));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_LeavesAnotherSubjectsWithdrawalInForce(Engine engine)
    {
        var (db, program, carol, dan) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
        await withdrawals.WithdrawAsync(dan, "mci", null, Person(Dan, dan), Cancellation);

        await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        Assert.Equal([null, RejectReason.SubjectRevoked], await CollectAsync(db, program, (Carol, "keystrokes"), (Dan, "keystrokes")));
        Assert.Single(await SampleData.ActiveRevocationsAsync(db, dan));
        Assert.Equal(0, await RejoinedEventsAsync(db, dan));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_LeavesTheErasureRequestOfTheWithdrawalOpen(Engine engine)
    {
        var (db, _, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        var withdrawal = await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        await revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);

        var erasure = await db.Get<RequestDesk>().GetForSubjectAsync(carol, withdrawal.FollowUp.Reference, Cancellation);
        Assert.Equal(RequestKind.Erasure, erasure.Kind);
        Assert.Equal(RequestStatus.Received, erasure.Status);
        Assert.Single(await db.Get<RequestDesk>().ForSubjectAsync(carol, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_UnknownProgramOrCategory_IsNotFound(Engine engine)
    {
        var (db, _, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();

        await Assert.ThrowsAsync<NotFoundProblem>(() => revocations.RejoinAsync(carol, "no-such-program", null, Person(Carol, carol), Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => revocations.RejoinAsync(carol, "mci", "no_such_category", Person(Carol, carol), Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejoin_WaitsForACollectionTransactionThatHasReadTheSubject(Engine engine)
    {
        var (db, _, carol, _) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        await withdrawals.WithdrawAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
        var dialect = db.Get<ConnectionFactory>().Dialect;

        Task<bool> rejoin;
        await using (var collecting = await db.OpenAsync())
        {
            // What an ingest holds while it decides on carol's records: the write transaction and a share lock on her row.
            await using var transaction = await ConnectionFactory.BeginWriteAsync(collecting, Cancellation);
            await collecting.ExecuteAsync($"SELECT id FROM subjects WHERE id = @carol {dialect.ForShare}", new { carol }, transaction);
            rejoin = revocations.RejoinAsync(carol, "mci", null, Person(Carol, carol), Cancellation);
            await Task.Delay(TimeSpan.FromMilliseconds(300), Cancellation);

            Assert.False(rejoin.IsCompleted, "the re-join committed while a collection transaction still relied on the withdrawal");
            await transaction.CommitAsync(Cancellation);
        }

        Assert.True(await rejoin);
    }
}
