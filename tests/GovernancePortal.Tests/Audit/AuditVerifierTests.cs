using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Audit;

public sealed class AuditVerifierTests : DatabaseTests
{
    /// <summary>A log of <paramref name="events"/> events with checkpoints at each of <paramref name="checkpointSizes"/>.</summary>
    private static async Task<TestDatabase> LogAsync(Engine engine, int events, params long[] checkpointSizes)
    {
        var db = await TestDatabase.CreateAsync(engine);
        await db.Get<SigningKeys>().SignAsync([1], Cancellation); // the first key is event 1
        await CheckpointStoreTests.AppendEventsAsync(db.Services, events - 1);
        foreach (var size in checkpointSizes)
            await db.Get<CheckpointStore>().SignAsync(size, Cancellation);
        return db;
    }

    private static async Task ExecuteAsync(TestDatabase db, string sql, object? parameters = null)
    {
        await using var connection = await db.OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    /// <summary>What a forger with write access does: change event <paramref name="seq"/> and re-hash every event from it, so the chain holds again.</summary>
    private static async Task RechainFromAsync(TestDatabase db, long seq, string detail)
    {
        await using var connection = await db.OpenAsync();
        var events = await connection.AuditEventsAsync();
        var previous = events[(int)seq - 2].Hash;
        foreach (var e in events.Where(e => e.Seq >= seq))
        {
            var forged = e with { Detail = e.Seq == seq ? detail : e.Detail, PrevHash = previous };
            forged = forged with { Hash = AuditChain.ComputeHash(forged) };
            await connection.ExecuteAsync("UPDATE audit_events SET detail = @Detail, prev_hash = @PrevHash, hash = @Hash WHERE seq = @Seq", forged);
            previous = forged.Hash;
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task IntactLog_Verifies_AndTheRunIsRecorded(Engine engine)
    {
        await using var db = await LogAsync(engine, 12, 4, 8, 12);
        var verifier = db.Get<AuditVerifier>();
        Assert.Null(await verifier.LatestAsync(Cancellation));

        var run = await verifier.RunAsync(Cancellation);

        Assert.True(run.Ok, run.Problem);
        Assert.Equal((12L, 3L, (long?)null), (run.EventsChecked, run.CheckpointsChecked, run.FirstBadSeq));
        Assert.Equal(run, await verifier.LatestAsync(Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ChangedField_IsRecordedAsAFailureAtItsSeq(Engine engine)
    {
        await using var db = await LogAsync(engine, 10, 8);
        await ExecuteAsync(db, "UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 6");

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.False(run.Ok);
        Assert.Equal(6, run.FirstBadSeq);
        Assert.Contains("event 6 was changed", run.Problem, StringComparison.Ordinal);
        Assert.Equal(run, await db.Get<AuditVerifier>().LatestAsync(Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ChangedStoredHash_BreaksTheLinkOfTheNextEvent(Engine engine)
    {
        await using var db = await LogAsync(engine, 7);
        await using (var connection = await db.OpenAsync())
        {
            var third = (await connection.AuditEventsAsync(3, 3)).Single();
            var forged = third with { Detail = "forged" };
            await connection.ExecuteAsync("UPDATE audit_events SET detail = @Detail, hash = @Hash WHERE seq = 3", forged with { Hash = AuditChain.ComputeHash(forged) });
        }

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.Equal((false, 4L), (run.Ok, run.FirstBadSeq));
        Assert.Contains("does not link", run.Problem, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DeletedEvent_IsAGapAtItsSeq(Engine engine)
    {
        await using var db = await LogAsync(engine, 6);
        await ExecuteAsync(db, "DELETE FROM audit_events WHERE seq = 4");

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.Equal((false, 4L), (run.Ok, run.FirstBadSeq));
        Assert.Contains("event 4 is missing", run.Problem, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RechainedForgery_PassesTheChainButNotTheCheckpoints(Engine engine)
    {
        await using var db = await LogAsync(engine, 10, 3, 8);
        await RechainFromAsync(db, 5, "forged");

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.False(run.Ok);
        Assert.Equal(4, run.FirstBadSeq);
        Assert.Contains("checkpoint of size 8", run.Problem, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task TruncatedTail_BelowASignedCheckpoint_IsDetected(Engine engine)
    {
        await using var db = await LogAsync(engine, 9, 9);
        await ExecuteAsync(db, "DELETE FROM audit_events WHERE seq > 6");

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.Equal((false, 7L), (run.Ok, run.FirstBadSeq));
        Assert.Contains("were removed", run.Problem, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ChangedCheckpointRow_FailsItsSignature(Engine engine)
    {
        await using var db = await LogAsync(engine, 6, 3, 6);
        await ExecuteAsync(db, "UPDATE audit_checkpoints SET root_hash = @Root WHERE tree_size = 3", new { Root = new string('0', 64) });

        var run = await db.Get<AuditVerifier>().RunAsync(Cancellation);

        Assert.False(run.Ok);
        Assert.Contains("checkpoint of size 3 is not signed", run.Problem, StringComparison.Ordinal);
    }
}
