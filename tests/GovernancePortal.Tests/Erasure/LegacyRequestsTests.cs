using Dapper;
using GovernancePortal.Erasure;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using static GovernancePortal.Tests.Erasure.ErasureSweepTests;

namespace GovernancePortal.Tests.Erasure;

/// <summary>
/// Erasure requests filed before V13 sealed keys: the migration's legacy statement seals what each request
/// covers exactly. The test makes the state V12 left (no key sealed) and runs that statement from the migration file.
/// </summary>
public sealed class LegacyRequestsTests : DatabaseTests
{
    private static async Task RunLegacySealAsync(Setup s, Engine engine)
    {
        var folder = AppContext.BaseDirectory;
        var script = await File.ReadAllTextAsync(Path.Combine(folder, "db", engine == Engine.Sqlite ? "sqlite" : "postgres", "V13__erasure_and_holds.sql"), Cancellation);
        var start = script.IndexOf("-- legacy-seal:begin", StringComparison.Ordinal);
        var end = script.IndexOf("-- legacy-seal:end", StringComparison.Ordinal);
        Assert.True(start > 0 && end > start);
        await using var connection = await s.Db.OpenAsync();
        await connection.ExecuteAsync("UPDATE data_keys SET sealed_at = NULL");
        await connection.ExecuteAsync(script[start..end]);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task LegacyWithdrawal_IsSealedAtItsRequest_AndErasedWhole(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 4);
        await AddAsync(s, s.Bob, "events", 2);
        var request = await WithdrawAsync(s);
        await RunLegacySealAsync(s, engine);

        Assert.True(Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation)).Completed);

        Assert.Equal(0, await RecordsAsync(s, s.Alice));
        Assert.Equal(2, await RecordsAsync(s, s.Bob));
        Assert.Equal(4, ErasureReceipt.ReadUnverified((await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt)!.TotalRecords);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task LegacyRequest_WhoseKeyKeptCollecting_LeavesThatKeyAndItsRecords(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        await AddAsync(s, s.Alice, "locations", 2);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await s.Db.Get<RequestDesk>().SubmitAsync(s.Alice, RequestKind.Erasure, "mci", null, s.AliceActor, Cancellation);
        await RunLegacySealAsync(s, engine);
        // Before V13 the events key went on sealing records after the request.
        await using (var connection = await s.Db.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE data_keys SET sealed_at = NULL WHERE category_id = @c", new { c = s.Program["events"] });
            await connection.ExecuteAsync("UPDATE records SET received_at = @later WHERE category_id = @c", new { later = s.Clock.GetUtcNow().AddMinutes(5), c = s.Program["events"] });
        }
        await RunLegacySealAsync(s, engine);

        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);

        var left = await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id);
        Assert.Equal(3, left.Count);
        Assert.All(left, r => Assert.Equal(s.Program["events"], r.CategoryId));
        Assert.All(left, r => Assert.NotNull(r.Payload));
    }
}
