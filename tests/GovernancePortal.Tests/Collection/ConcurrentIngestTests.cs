using GovernancePortal.Collection;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

/// <summary>
/// Writers on two nodes storing at the same time, without a switch in sight: each batch commits, and
/// nothing is lost or doubled. Collectors send people in whatever order they like, so two batches may
/// need the same new subjects or data keys in opposite orders.
/// </summary>
public sealed class ConcurrentIngestTests : DatabaseTests
{
    private const int Rounds = 5;
    private const int PeoplePerRound = 50;
    private const int WritersPerRound = 4;
    private static readonly string[] Categories = ["keystrokes", "transcriptions"];

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ConcurrentBatchesNamingTheSameNewPeopleInOppositeOrders_AllCommitWithOneSubjectEach(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        var program = await ProgramAsync(db.Services, "mci", Categories);

        await IngestInOppositeOrdersAsync(db, secondNode, program, round => $"new.{round}");

        Assert.Equal(Rounds * PeoplePerRound, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(Rounds * PeoplePerRound * Categories.Length, await CountAsync(db, "SELECT count(*) FROM data_keys"));
        Assert.Equal(Rounds * PeoplePerRound * Categories.Length * WritersPerRound, await CountAsync(db, "SELECT count(*) FROM records"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Ingest_ConcurrentBatchesNeedingTheSameNewDataKeysInOppositeOrders_AllCommitWithOneKeyPerScope(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var secondNode = db.BuildServices();
        var program = await ProgramAsync(db.Services, "mci", Categories);
        var elsewhere = await ProgramAsync(db.Services, "endpoint-security", "process_events");
        var known = Enumerable.Range(0, Rounds).SelectMany(round => PeopleOf($"known.{round}")).ToList();
        await db.Get<CollectionService>().IngestAsync(elsewhere.Collector,
            new CollectBatch(known.Select((person, i) => new IncomingRecord(i, person, "process_events", DateTimeOffset.UtcNow, "{}")).ToList(), []), null, Cancellation);

        await IngestInOppositeOrdersAsync(db, secondNode, program, round => $"known.{round}");

        Assert.Equal(known.Count, await CountAsync(db, "SELECT count(*) FROM subjects"));
        Assert.Equal(Rounds * PeoplePerRound * Categories.Length, await CountAsync(db, "SELECT count(*) FROM data_keys WHERE program_id = @Id", new { program.Id }));
        Assert.Equal(Rounds * PeoplePerRound * Categories.Length * WritersPerRound, await CountAsync(db, "SELECT count(*) FROM records WHERE program_id = @Id", new { program.Id }));
    }

    private static IReadOnlyList<string> PeopleOf(string group) =>
        Enumerable.Range(0, PeoplePerRound).Select(i => $"{group}.{i}@example.com").ToList();

    /// <summary>Each round, four writers (two per node) released at once send the same people, half of them in reverse order.</summary>
    private static async Task IngestInOppositeOrdersAsync(TestDatabase db, IServiceProvider secondNode, CollectingProgram program, Func<int, string> groupOfRound)
    {
        var services = new[] { db.Get<CollectionService>(), secondNode.GetRequiredService<CollectionService>() };
        for (var round = 0; round < Rounds; round++)
        {
            var people = PeopleOf(groupOfRound(round));
            var capturedAt = DateTimeOffset.UtcNow;
            IReadOnlyList<IncomingRecord> BatchOf(IEnumerable<string> order) => order
                .SelectMany(person => Categories.Select(category => (person, category)))
                .Select((pair, index) => new IncomingRecord(index, pair.person, pair.category, capturedAt, """{"n":1}"""))
                .ToList();
            var batches = Enumerable.Range(0, WritersPerRound).Select(writer => BatchOf(writer % 2 == 0 ? people : people.Reverse())).ToList();
            using var start = new Barrier(batches.Count);

            var results = await Task.WhenAll(batches.Select((records, writer) => Task.Run(async () =>
            {
                start.SignalAndWait(TestContext.Current.CancellationToken);
                return await services[writer % services.Length].IngestAsync(program.Collector, new CollectBatch(records, []), null);
            })));

            Assert.All(results, result => Assert.Equal((PeoplePerRound * Categories.Length, 0), (result.Accepted, result.Rejected.Count)));
        }
    }
}
