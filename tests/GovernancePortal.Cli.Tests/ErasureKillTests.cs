using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Demo;
using GovernancePortal.Erasure;
using GovernancePortal.Requests;
using GovernancePortal.Testing;

namespace GovernancePortal.Cli.Tests;

/// <summary>
/// docs/erasure.md: an erasure killed half-way is finished by the next sweep, each record counted once, and nothing
/// outside its scope touched. <c>gp erasure sweep</c> runs as its own process, one record per transaction, and is
/// killed once it has deleted some of alice's withdrawn mouse movements.
/// </summary>
public sealed class ErasureKillTests : DatabaseTests
{
    private const string AlicesMouse = """
        SELECT count(*) FROM records r JOIN categories c ON c.id = r.category_id JOIN subjects s ON s.id = r.subject_id
        WHERE c.key = 'mouse_movements' AND s.email = 'alice@example.com'
        """;

    private const string Everything = "SELECT count(*) FROM records";

    [Theory, MemberData(nameof(Engines))]
    public async Task AnErasureKilledHalfWay_IsFinishedByTheNextSweep_AndTouchesNothingElse(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);
        await using var connection = await db.OpenAsync();
        // Ten copies of each of alice's mouse movements (same key), so that the sweep, one record per transaction, runs for a while.
        var copies = engine == Engine.Sqlite
            ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n"
            : "SELECT generate_series(1, 10)";
        await connection.ExecuteAsync($"""
            INSERT INTO records (program_id, category_id, subject_id, collector_id, data_key_id, captured_at, received_at, nonce, payload)
            SELECT r.program_id, r.category_id, r.subject_id, r.collector_id, r.data_key_id, r.captured_at, r.received_at, r.nonce, r.payload
            FROM records r JOIN categories c ON c.id = r.category_id JOIN subjects s ON s.id = r.subject_id CROSS JOIN ({copies}) AS copy
            WHERE c.key = 'mouse_movements' AND s.email = 'alice@example.com'
            """);
        var alice = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'alice@example.com'");
        var inScope = await connection.ExecuteScalarAsync<long>(AlicesMouse);
        var others = await connection.ExecuteScalarAsync<long>(Everything) - inScope;
        Assert.True(inScope > 300, $"alice has {inScope} mouse movements");
        var withdrawal = await db.Get<Withdrawals>().WithdrawAsync(alice, "mci", "mouse_movements", new Actor("alice@example.com", [Roles.Employee], alice), Cancellation);

        // Each delete made slow (a few milliseconds), so that the kill lands in the middle however busy the machine is.
        await connection.ExecuteAsync(engine == Engine.Sqlite
            ? "CREATE TRIGGER slow BEFORE DELETE ON records BEGIN SELECT length(hex(randomblob(3000000))); END"
            : """
              CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN OLD; END $$;
              CREATE TRIGGER slow BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION slow();
              """);
        using (var sweep = GpProcess.Start(db, new Dictionary<string, string> { ["Erasure:BatchSize"] = "1" }, "erasure", "sweep"))
        {
            for (var i = 0; await connection.ExecuteScalarAsync<long>(AlicesMouse) > inScope - 20; i++)
            {
                if (sweep.HasExited)
                    Assert.Fail($"gp erasure sweep ended before it was killed: {await sweep.StandardError.ReadToEndAsync(Cancellation)}");
                Assert.True(i < 1200, "gp erasure sweep deleted nothing within two minutes");
                await Task.Delay(100, Cancellation);
            }
            sweep.Kill(entireProcessTree: true);
            await sweep.WaitForExitAsync(Cancellation);
        }
        await connection.ExecuteAsync(engine == Engine.Sqlite ? "DROP TRIGGER slow" : "DROP TRIGGER slow ON records");

        var afterKill = await connection.ExecuteScalarAsync<long>(AlicesMouse);
        Assert.InRange(afterKill, 1, inScope - 20);
        var killed = await db.Get<RequestDesk>().GetForSubjectAsync(alice, withdrawal.FollowUp.Reference, Cancellation);
        Assert.NotEqual(RequestStatus.Completed, killed.Status);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM data_keys k JOIN categories c ON c.id = k.category_id WHERE k.subject_id = @alice AND c.key = 'mouse_movements' AND k.destroyed_at IS NULL",
            new { alice }));

        var rerun = await db.Get<ErasureSweep>().RunAsync(Cancellation);

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(AlicesMouse));
        Assert.Equal(others, await connection.ExecuteScalarAsync<long>(Everything));
        var done = await db.Get<RequestDesk>().GetForSubjectAsync(alice, withdrawal.FollowUp.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, done.Status);
        Assert.Equal(afterKill, Assert.Single(rerun, o => o.Reference == done.Reference).Deleted);
        // Counted once, whichever process deleted it.
        Assert.Equal([("mouse_movements", inScope)], ErasureReceipt.ReadUnverified(done.Receipt)!.Erased.Select(e => (e.Category, e.Records)));
    }
}
