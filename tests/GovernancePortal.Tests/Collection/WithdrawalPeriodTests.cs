using GovernancePortal.Requests;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

/// <summary>
/// A collector that buffered records while a person had withdrawn sends them after the person re-joined:
/// what was captured without consent is refused; what was captured before or after is stored.
/// </summary>
public sealed class WithdrawalPeriodTests : DatabaseTests
{
    private const string Carol = "carol@example.com";
    private const string Dan = "dan@example.com";

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>The consent program mci with a collector, and carol and dan known to it through a first batch.</summary>
    private async Task<(TestDatabase Db, CollectingProgram Program, long Carol)> StartAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var program = await ProgramAsync(db.Services, "mci", "keystrokes", "transcriptions");
        _clock.Advance(TimeSpan.FromDays(1));
        var first = await db.Get<CollectionService>().IngestAsync(program.Collector, await BatchAsync(Record(Carol, "keystrokes", Now), Record(Dan, "keystrokes", Now)), null, Cancellation);
        Assert.Equal(2, first.Accepted);
        return (db, program, await SubjectIdAsync(db, Carol));
    }

    private static Actor Person(string email, long subjectId) => new(email, [Roles.Employee], subjectId);

    /// <summary>Carol withdraws from <paramref name="categoryKey"/> (null: the whole program) for an hour; returns when she withdrew and re-joined.</summary>
    private async Task<(DateTimeOffset Withdrew, DateTimeOffset Rejoined)> WithdrawForAnHourAsync(TestDatabase db, long carol, string? categoryKey)
    {
        _clock.Advance(TimeSpan.FromHours(1));
        var withdrew = Now;
        await db.Get<Withdrawals>().WithdrawAsync(carol, "mci", categoryKey, Person(Carol, carol), Cancellation);
        _clock.Advance(TimeSpan.FromHours(1));
        var rejoined = Now;
        Assert.True(await db.Get<Revocations>().RejoinAsync(carol, "mci", categoryKey, Person(Carol, carol), Cancellation));
        _clock.Advance(TimeSpan.FromHours(1));
        return (withdrew, rejoined);
    }

    /// <summary>
    /// One batch with a record for each (subject, category, captured) triple, sent now. Returns what the collector is told
    /// about each, in order (null when it was accepted), after checking that exactly the accepted ones are stored.
    /// </summary>
    private async Task<IReadOnlyList<string?>> CollectAsync(TestDatabase db, CollectingProgram program, params (string Subject, string Category, DateTimeOffset CapturedAt)[] records)
    {
        var before = await CountAsync(db, "SELECT count(*) FROM records");
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(records.Select(r => Record(r.Subject, r.Category, r.CapturedAt)).ToArray()), null, Cancellation);
        var reasons = records.Select((_, index) => result.Rejected.FirstOrDefault(r => r.Index == index)?.Reason).ToList();
        Assert.Equal(reasons.Count(r => r is null), result.Accepted);
        Assert.Equal(before + result.Accepted, await CountAsync(db, "SELECT count(*) FROM records"));
        return reasons;
    }

    /// <summary>When carol's stored records of <paramref name="category"/> were captured, oldest first (the first batch's included).</summary>
    private static async Task<IReadOnlyList<DateTimeOffset>> CarolsCapturesAsync(TestDatabase db, CollectingProgram program, long carol, string category) =>
        (await SampleData.NewestAsync(db, carol, program.Id)).Where(r => r.CategoryId == program[category]).Select(r => r.CapturedAt).Order().ToList();

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_AfterRejoin_RefusesRecordsCapturedWhileWithdrawn_AndStoresThoseBeforeAndAfter(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var start = Now;
        var (withdrew, rejoined) = await WithdrawForAnHourAsync(db, carol, null);

        var reasons = await CollectAsync(db, program,
            (Carol, "keystrokes", withdrew.AddMinutes(-1)),
            (Carol, "keystrokes", withdrew),
            (Carol, "keystrokes", withdrew.AddMinutes(30)),
            (Carol, "transcriptions", withdrew.AddMinutes(30)),
            (Carol, "keystrokes", rejoined.AddTicks(-10)),
            (Carol, "keystrokes", rejoined),
            (Carol, "transcriptions", rejoined.AddMinutes(1)));

        const string Revoked = RejectReason.SubjectRevoked;
        Assert.Equal([null, Revoked, Revoked, Revoked, Revoked, null, null], reasons);
        Assert.Equal([start, withdrew.AddMinutes(-1), rejoined], await CarolsCapturesAsync(db, program, carol, "keystrokes"));
        Assert.Equal([rejoined.AddMinutes(1)], await CarolsCapturesAsync(db, program, carol, "transcriptions"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_AfterRejoiningACategory_RefusesThatCategoryCapturedWhileWithdrawn_AndNoOther(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var (withdrew, rejoined) = await WithdrawForAnHourAsync(db, carol, "transcriptions");
        var during = withdrew.AddMinutes(30);

        var reasons = await CollectAsync(db, program,
            (Carol, "transcriptions", withdrew.AddMinutes(-1)),
            (Carol, "transcriptions", during),
            (Carol, "keystrokes", during),
            (Carol, "transcriptions", rejoined.AddMinutes(1)));

        Assert.Equal([null, RejectReason.SubjectRevoked, null, null], reasons);
        Assert.Equal([withdrew.AddMinutes(-1), rejoined.AddMinutes(1)], await CarolsCapturesAsync(db, program, carol, "transcriptions"));
        Assert.Contains(during, await CarolsCapturesAsync(db, program, carol, "keystrokes"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_AnotherSubjectsRecordsCapturedWhileOneHadWithdrawn_AreStored(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var (withdrew, _) = await WithdrawForAnHourAsync(db, carol, null);
        var during = withdrew.AddMinutes(30);

        var reasons = await CollectAsync(db, program,
            (Dan, "keystrokes", during),
            (Carol, "keystrokes", during),
            (Dan, "transcriptions", during));

        Assert.Equal([null, RejectReason.SubjectRevoked, null], reasons);
        var dan = await SubjectIdAsync(db, Dan);
        Assert.Equal(2, (await SampleData.NewestAsync(db, dan, program.Id)).Count(r => r.CapturedAt == during));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_AfterTwoWithdrawals_RefusesRecordsOfEitherPeriod_AndStoresThoseOfTheGap(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var (firstWithdrew, firstRejoined) = await WithdrawForAnHourAsync(db, carol, null);
        var (secondWithdrew, secondRejoined) = await WithdrawForAnHourAsync(db, carol, null);
        var gap = firstRejoined.AddMinutes(30);
        Assert.True(gap < secondWithdrew);

        var reasons = await CollectAsync(db, program,
            (Carol, "keystrokes", firstWithdrew.AddMinutes(30)),
            (Carol, "keystrokes", gap),
            (Carol, "keystrokes", secondWithdrew.AddMinutes(30)),
            (Carol, "keystrokes", secondRejoined.AddMinutes(1)));

        Assert.Equal([RejectReason.SubjectRevoked, null, RejectReason.SubjectRevoked, null], reasons);
        Assert.Equal([gap, secondRejoined.AddMinutes(1)], (await CarolsCapturesAsync(db, program, carol, "keystrokes")).Skip(1));
    }
}
