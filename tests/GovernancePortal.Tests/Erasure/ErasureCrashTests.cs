using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Erasure;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using static GovernancePortal.Tests.Erasure.ErasureSweepTests;

namespace GovernancePortal.Tests.Erasure;

/// <summary>
/// Point 9 of the erasure: a sweep stopped half-way (cancelled between batches, or killed inside one) and
/// started again finishes with nothing left behind and nothing deleted that should stay; two at once erase
/// each record once and write one receipt.
/// </summary>
public sealed class ErasureCrashTests : DatabaseTests
{
    private static ServiceProvider Node(Setup s, int batchSize) =>
        new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(s.Clock)
            .AddPortalCore(s.Db.Settings with { Erasure = ErasureOptions.Default with { BatchSize = batchSize } })
            .BuildServiceProvider();

    /// <summary>Alice: 60 events and 40 locations before she withdraws, 7 events after she re-joins. Bob: 9 events.</summary>
    private static async Task<(DataRequest Request, long KeptKey)> AliceWithdrewAndRejoinedAsync(Setup s)
    {
        await AddAsync(s, s.Alice, "events", 60);
        await AddAsync(s, s.Alice, "locations", 40);
        await AddAsync(s, s.Bob, "events", 9);
        var request = await WithdrawAsync(s);
        Assert.True(await s.Db.Get<GovernancePortal.Subjects.Revocations>().RejoinAsync(s.Alice, "mci", null, s.AliceActor, Cancellation));
        await AddAsync(s, s.Alice, "events", 7);
        await using var connection = await s.Db.OpenAsync();
        var kept = await connection.ExecuteScalarAsync<long>("SELECT id FROM data_keys WHERE subject_id = @id AND sealed_at IS NULL", new { id = s.Alice });
        return (request, kept);
    }

    /// <summary>Everything the erasure must have done, and everything it must not have touched.</summary>
    private static async Task AssertFinishedExactlyAsync(Setup s, DataRequest request, long keptKey)
    {
        await using var connection = await s.Db.OpenAsync();
        var alice = (await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id)).ToList();
        Assert.Equal(7, alice.Count);
        Assert.All(alice, r => Assert.NotNull(r.Payload));
        Assert.Equal(9, (await SampleData.NewestAsync(s.Db, s.Bob, s.Program.Id)).Count(r => r.Payload is not null));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM data_keys WHERE subject_id = @id AND id <> @kept AND destroyed_at IS NULL", new { id = s.Alice, kept = keptKey }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM data_keys WHERE id = @kept AND destroyed_at IS NULL", new { kept = keptKey }));
        var done = await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, done.Status);
        var receipt = ErasureReceipt.ReadUnverified(done.Receipt)!;
        // Each record counted once, whoever deleted it and however often the sweep was started.
        Assert.Equal([("events", 60L), ("locations", 40L)], receipt.Erased.Select(e => (e.Category, e.Records)));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = @a", new { a = AuditActions.RecordsErased }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CancelledBetweenBatches_ThenRunAgain_FinishesExactly(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var (request, kept) = await AliceWithdrewAndRejoinedAsync(s);
        await using var node = Node(s, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);

        // Cancel as soon as the first records are gone: the sweep stops at the top of its next batch.
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && await RecordsAsync(s, s.Alice) > 100)
                await Task.Delay(1, Cancellation);
            await stop.CancelAsync();
        }, Cancellation);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.GetRequiredService<ErasureSweep>().RunAsync(stop.Token));
        await watcher;
        var left = await RecordsAsync(s, s.Alice);
        Assert.InRange(left, 8, 106);
        Assert.Null((await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt);

        Assert.True(Assert.Single(await node.GetRequiredService<ErasureSweep>().RunAsync(Cancellation)).Completed);
        await AssertFinishedExactlyAsync(s, request, kept);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task KilledInsideABatch_ThenRunAgain_FinishesExactly(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var (request, kept) = await AliceWithdrewAndRejoinedAsync(s);
        await using var node = Node(s, 10);
        await using var connection = await s.Db.OpenAsync();
        // A record of the fourth batch of the locations cannot be deleted: the batch's transaction dies the way a killed worker's does.
        var victim = await connection.ExecuteScalarAsync<long>(
            "SELECT id FROM records WHERE subject_id = @id AND category_id = @c ORDER BY id LIMIT 1 OFFSET 35", new { id = s.Alice, c = s.Program["locations"] });
        await connection.ExecuteAsync(engine == Engine.Sqlite
            ? $"CREATE TRIGGER crash BEFORE DELETE ON records WHEN old.id = {victim} BEGIN SELECT RAISE(ABORT, 'crash'); END"
            : $$"""
              CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.id = {{victim}} THEN RAISE EXCEPTION 'crash'; END IF; RETURN OLD; END $$;
              CREATE TRIGGER crash BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION crash();
              """);

        await Assert.ThrowsAnyAsync<Exception>(() => node.GetRequiredService<ErasureSweep>().RunAsync(Cancellation));
        // The keys went first: what is left can no longer be read, and the failed batch deleted nothing.
        Assert.InRange(await RecordsAsync(s, s.Alice), 8, 106);
        Assert.All((await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id, 1000)).Where(r => r.CapturedAt < request.ReceivedAt), r => Assert.Null(r.Payload));
        await connection.ExecuteAsync(engine == Engine.Sqlite ? "DROP TRIGGER crash" : "DROP TRIGGER crash ON records");

        await node.GetRequiredService<ErasureSweep>().RunAsync(Cancellation);
        await AssertFinishedExactlyAsync(s, request, kept);
    }

    /// <summary>
    /// The worker dies mid-sweep as far as the database can tell: the server ends its connections, open
    /// transaction and all. (On SQLite the engine has no server to do that; the test above kills a batch.)
    /// </summary>
    [Fact]
    public async Task Postgres_WorkersConnectionsKilledMidSweep_ThenRunAgain_FinishesExactly()
    {
        await using var s = await SetupAsync(Engine.Postgres);
        var (request, kept) = await AliceWithdrewAndRejoinedAsync(s);
        await using var node = Node(s, 1);
        // Each delete made slow (5 ms), so that the sweep is still running when its connection is ended, however fast the machine.
        await using (var setup = await s.Db.OpenAsync())
            await setup.ExecuteAsync("""
                CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN OLD; END $$;
                CREATE TRIGGER slow BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION slow();
                """);

        var sweeping = Task.Run(() => node.GetRequiredService<ErasureSweep>().RunAsync(Cancellation), Cancellation);
        while (await RecordsAsync(s, s.Alice) > 100 && !sweeping.IsCompleted)
            await Task.Delay(1, Cancellation);
        // Only the sweep is inside a command or a transaction now; the test's own idle connections are left alone.
        await using (var connection = new Npgsql.NpgsqlConnection(s.Db.ConnectionString))
        {
            await connection.OpenAsync(Cancellation);
            var killed = 0L;
            while (killed == 0 && !sweeping.IsCompleted)
                killed = await connection.ExecuteScalarAsync<long>(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity " +
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')");
        }
        await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => sweeping);
        Assert.InRange(await RecordsAsync(s, s.Alice), 8, 106);
        await using (var setup = await s.Db.OpenAsync())
            await setup.ExecuteAsync("DROP TRIGGER slow ON records");

        await using var restarted = Node(s, 10);
        Assert.True(Assert.Single(await restarted.GetRequiredService<ErasureSweep>().RunAsync(Cancellation)).Completed);
        await AssertFinishedExactlyAsync(s, request, kept);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task TwoWorkersAtOnce_EraseEachRecordOnce_AndWriteOneReceipt(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var (request, kept) = await AliceWithdrewAndRejoinedAsync(s);
        await using var one = Node(s, 7);
        await using var two = Node(s, 7);

        var runs = await Task.WhenAll(
            Task.Run(() => one.GetRequiredService<ErasureSweep>().RunAsync(Cancellation), Cancellation),
            Task.Run(() => two.GetRequiredService<ErasureSweep>().RunAsync(Cancellation), Cancellation));

        Assert.Equal(100, runs.SelectMany(r => r).Sum(o => o.Deleted));
        await AssertFinishedExactlyAsync(s, request, kept);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SweepAfterItFinished_ChangesNothing(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        var (request, kept) = await AliceWithdrewAndRejoinedAsync(s);
        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);
        var receipt = (await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt;

        Assert.Empty(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));

        Assert.Equal(receipt, (await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt);
        await AssertFinishedExactlyAsync(s, request, kept);
    }
}
