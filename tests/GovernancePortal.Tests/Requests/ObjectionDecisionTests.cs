using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Tests.Collection;
using Microsoft.Extensions.Time.Testing;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Requests;

/// <summary>An objection stops collection at once; an officer's decision either keeps it stopped (upheld) or resumes it (rejected).</summary>
public sealed class ObjectionDecisionTests : DatabaseTests
{
    private const string Carol = "carol@example.com";
    private const string Dan = "dan@example.com";

    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejected_EndsTheObjection_AndCollectionOfThatPersonResumes(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var objection = await db.Get<Withdrawals>().WithdrawAsync(carol, "endpoint-security", null, Person(carol), Cancellation);
        Assert.Equal([RejectReason.SubjectRevoked, null], await CollectAsync(db, program, Carol, Dan));

        await db.Get<RequestDesk>().DecideObjectionAsync(objection.FollowUp.Reference, uphold: false, "Needed to detect malware on company laptops.", Priya, Cancellation);

        Assert.Equal([null, null], await CollectAsync(db, program, Carol, Dan));
        Assert.Empty(await SampleData.ActiveRevocationsAsync(db, carol));
        var decided = await db.Get<RequestDesk>().GetForSubjectAsync(carol, objection.FollowUp.Reference, Cancellation);
        Assert.Equal(RequestStatus.Rejected, decided.Status);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Upheld_KeepsCollectionOfThatPersonStopped(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var objection = await db.Get<Withdrawals>().WithdrawAsync(carol, "endpoint-security", null, Person(carol), Cancellation);

        await db.Get<RequestDesk>().DecideObjectionAsync(objection.FollowUp.Reference, uphold: true, "Your objection outweighs our interest.", Priya, Cancellation);

        Assert.Equal([RejectReason.SubjectRevoked, null], await CollectAsync(db, program, Carol, Dan));
        Assert.Single(await SampleData.ActiveRevocationsAsync(db, carol));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rejected_ObjectionToOneCategory_EndsOnlyThatObjection(Engine engine)
    {
        var (db, program, carol) = await StartAsync(engine);
        await using var _ = db;
        var revocations = db.Get<Revocations>();
        var withdrawals = db.Get<Withdrawals>();
        var processes = await withdrawals.WithdrawAsync(carol, "endpoint-security", "process_events", Person(carol), Cancellation);
        await withdrawals.WithdrawAsync(carol, "endpoint-security", "network", Person(carol), Cancellation);

        await db.Get<RequestDesk>().DecideObjectionAsync(processes.FollowUp.Reference, uphold: false, "Process events are needed to detect malware.", Priya, Cancellation);

        var result = await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(Record(Carol, "process_events", Tick()), Record(Carol, "network", Now)), null, Cancellation);
        Assert.Equal(1, result.Accepted);
        Assert.Equal(1, Assert.Single(result.Rejected).Index);
        Assert.Equal("network", await CategoryOfActiveRevocationAsync(db, carol));
    }

    private async Task<(TestDatabase Db, CollectingProgram Program, long Carol)> StartAsync(Engine engine)
    {
        var db = await TestDatabase.CreateAsync(engine, _clock);
        var program = await ProgramAsync(db.Services, "endpoint-security", "process_events", "network");
        await db.Get<ProgramEditor>().UpdateAsync("endpoint-security",
            new ProgramDraft("endpoint-security", "Endpoint security", "Detect malware", "Security Operations", LegalBasis.LegitimateInterest), Priya, Cancellation);
        Assert.Equal([null, null], await CollectAsync(db, program, Carol, Dan));
        return (db, program, await SubjectIdAsync(db, Carol));
    }

    private static Actor Person(long subjectId) => new(Carol, [Roles.Employee], subjectId);

    private DateTimeOffset Tick()
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        return Now;
    }

    /// <summary>What the collector is told about one process event of each person, in order: null when it was accepted.</summary>
    private async Task<IReadOnlyList<string?>> CollectAsync(TestDatabase db, CollectingProgram program, params string[] subjects)
    {
        var capturedAt = Tick();
        var result = await db.Get<CollectionService>().IngestAsync(program.Collector,
            await BatchAsync(subjects.Select(subject => Record(subject, "process_events", capturedAt)).ToArray()), null, Cancellation);
        return subjects.Select((_, index) => result.Rejected.FirstOrDefault(r => r.Index == index)?.Reason).ToList();
    }

    private static async Task<string?> CategoryOfActiveRevocationAsync(TestDatabase db, long subjectId)
    {
        var active = Assert.Single(await SampleData.ActiveRevocationsAsync(db, subjectId));
        var program = await db.Get<ProgramQueries>().GetAsync("endpoint-security");
        return program!.Categories.Single(c => c.Id == active.CategoryId).Key;
    }
}
