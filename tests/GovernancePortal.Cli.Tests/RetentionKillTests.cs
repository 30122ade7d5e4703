using Dapper;
using GovernancePortal.Demo;
using GovernancePortal.Retention;
using GovernancePortal.Testing;

namespace GovernancePortal.Cli.Tests;

/// <summary>
/// docs/retention.md: a sweep killed half-way loses nothing and deletes nothing it should keep. <c>gp retention sweep</c>
/// runs as its own process, one record per transaction, and is killed once it has deleted some; the next sweep finishes.
/// </summary>
public sealed class RetentionKillTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task ASweepKilledHalfWay_IsFinishedByTheNext_AndKeepsEveryFreshRecord(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);
        await using var connection = await db.OpenAsync();
        // Mouse movements expire after one day: most of the demo's are past it, the last day's are not.
        await connection.ExecuteAsync("UPDATE categories SET retention_days = 1 WHERE key = 'mouse_movements'");
        var cutoff = DateTimeOffset.UtcNow.AddDays(-1);
        // Ten copies of each expired one, so that the sweep, one record per transaction, runs for a while.
        var copies = engine == Engine.Sqlite
            ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n"
            : "SELECT generate_series(1, 10)";
        await connection.ExecuteAsync($$"""
            INSERT INTO records (program_id, category_id, subject_id, collector_id, data_key_id, captured_at, received_at, nonce, payload)
            SELECT r.program_id, r.category_id, r.subject_id, r.collector_id, r.data_key_id, r.captured_at, r.received_at, r.nonce, r.payload
            FROM records r JOIN categories c ON c.id = r.category_id CROSS JOIN ({{copies}}) AS copy
            WHERE c.key = 'mouse_movements' AND r.captured_at <= @Cutoff
            """, new { Cutoff = cutoff });
        const string Mouse = "SELECT count(*) FROM records r JOIN categories c ON c.id = r.category_id WHERE c.key = 'mouse_movements'";
        var expired = await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at <= @Cutoff", new { Cutoff = cutoff });
        var fresh = await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at > @Cutoff", new { Cutoff = cutoff.AddMinutes(5) });
        var others = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records r JOIN categories c ON c.id = r.category_id WHERE c.key <> 'mouse_movements'");
        Assert.True(expired > 3000, $"the demo data has {expired} expired mouse movements");

        var seen = new List<long>();
        // Each delete made slow (a few milliseconds), so that the kill lands in the middle however busy the machine is.
        await connection.ExecuteAsync(engine == Engine.Sqlite
            ? "CREATE TRIGGER slow BEFORE DELETE ON records BEGIN SELECT length(hex(randomblob(3000000))); END"
            : """
              CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN OLD; END $$;
              CREATE TRIGGER slow BEFORE DELETE ON records FOR EACH ROW EXECUTE FUNCTION slow();
              """);
        using (var sweep = GpProcess.Start(db, new Dictionary<string, string> { ["Retention:BatchSize"] = "1" }, "retention", "sweep"))
        {
            for (var i = 0; ; i++)
            {
                var left = await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at <= @Cutoff", new { Cutoff = cutoff });
                seen.Add(left);
                if (left <= expired - 20)
                    break;
                if (sweep.HasExited)
                    Assert.Fail($"gp retention sweep ended before it was killed: {await sweep.StandardError.ReadToEndAsync(Cancellation)}");
                Assert.True(i < 1200, "gp retention sweep deleted nothing within two minutes");
                await Task.Delay(100, Cancellation);
            }
            sweep.Kill(entireProcessTree: true);
            await sweep.WaitForExitAsync(Cancellation);
        }

        var afterKill = await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at <= @Cutoff", new { Cutoff = cutoff });
        Assert.True(afterKill >= 1 && afterKill <= expired - 20, $"{afterKill} left after the kill; seen {string.Join(' ', seen)}");
        await connection.ExecuteAsync(engine == Engine.Sqlite ? "DROP TRIGGER slow" : "DROP TRIGGER slow ON records");
        var killedRun = await db.Get<RetentionQueries>().RunsAsync(1, 0, Cancellation);
        Assert.Null(Assert.Single(killedRun).FinishedAt);

        var rerun = await db.Get<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at <= @Cutoff", new { Cutoff = cutoff }));
        Assert.True(await connection.ExecuteScalarAsync<long>($"{Mouse} AND r.captured_at > @Cutoff", new { Cutoff = cutoff.AddMinutes(5) }) >= fresh);
        Assert.Equal(others, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records r JOIN categories c ON c.id = r.category_id WHERE c.key <> 'mouse_movements'"));
        Assert.Equal(afterKill, rerun.Deleted);
        Assert.NotNull((await db.Get<RetentionQueries>().RunsAsync(1, 0, Cancellation)).Single().FinishedAt);
    }
}
