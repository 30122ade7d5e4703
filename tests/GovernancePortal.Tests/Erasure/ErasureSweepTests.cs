using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Erasure;
using GovernancePortal.Holds;
using GovernancePortal.Requests;
using GovernancePortal.Retention;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Erasure;

/// <summary>Erasure with crypto-shredding: exact keys, the sweep, its receipt, and what a legal hold keeps.</summary>
public sealed class ErasureSweepTests : DatabaseTests
{
    internal sealed record Setup(TestDatabase Db, FakeTimeProvider Clock, SampleProgram Program, long Alice, long Bob, long Priya) : IAsyncDisposable
    {
        public Actor AliceActor => new("alice@example.com", [Roles.Employee], Alice);

        public Actor Officer => new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], Priya);

        public ValueTask DisposeAsync() => Db.DisposeAsync();
    }

    internal static async Task<Setup> SetupAsync(Engine engine)
    {
        var clock = new FakeTimeProvider(SampleData.Epoch.AddDays(1));
        var db = await TestDatabase.CreateAsync(engine, clock);
        var program = await SampleData.ProgramAsync(db, "mci", "events", "locations");
        return new Setup(db, clock, program, await SampleData.SubjectAsync(db, "alice@example.com"),
            await SampleData.SubjectAsync(db, "bob@example.com"), await SampleData.SubjectAsync(db, "priya@example.com"));
    }

    internal static async Task AddAsync(Setup s, long subject, string category, int count)
    {
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        await SampleData.AddRecordsAsync(s.Db, Enumerable.Range(0, count)
            .Select(i => new NewRecord(s.Program.Id, s.Program[category], subject, s.Clock.GetUtcNow().AddSeconds(-i), $"{{\"n\":{i}}}")).ToArray());
    }

    internal static async Task<long> CountAsync(Setup s, string sql, object? parameters = null)
    {
        await using var connection = await s.Db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    internal static Task<long> RecordsAsync(Setup s, long subject) => CountAsync(s, "SELECT count(*) FROM records WHERE subject_id = @subject", new { subject });

    internal static async Task<DataRequest> WithdrawAsync(Setup s, string? category = null)
    {
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        return (await s.Db.Get<Withdrawals>().WithdrawAsync(s.Alice, "mci", category, s.AliceActor, Cancellation)).FollowUp;
    }

    private static async Task<IReadOnlyList<(long Id, bool Destroyed, bool Sealed)>> KeysAsync(Setup s, long subject)
    {
        await using var connection = await s.Db.OpenAsync();
        return (await connection.QueryAsync<(long, DateTimeOffset?, DateTimeOffset?)>(
                "SELECT id, destroyed_at, sealed_at FROM data_keys WHERE subject_id = @subject ORDER BY id", new { subject }))
            .Select(k => (k.Item1, k.Item2 is not null, k.Item3 is not null)).ToList();
    }

    private static ServiceProvider WithBatchSize(Setup s, int batchSize) =>
        new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(s.Clock)
            .AddPortalCore(s.Db.Settings with { Erasure = ErasureOptions.Default with { BatchSize = batchSize } })
            .BuildServiceProvider();

    [Theory, MemberData(nameof(Engines))]
    public async Task WithdrawRejoinCollectErase_ErasesTheOldRecordsAndTheirKeys_KeepsTheNewOnesReadable(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 5);
        await AddAsync(s, s.Alice, "locations", 3);
        await AddAsync(s, s.Bob, "events", 2);
        var request = await WithdrawAsync(s);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await s.Db.Get<Revocations>().RejoinAsync(s.Alice, "mci", null, s.AliceActor, Cancellation));
        await AddAsync(s, s.Alice, "events", 4);
        var before = await KeysAsync(s, s.Alice);
        Assert.Equal(3, before.Count);

        var outcome = Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));

        Assert.True(outcome.Completed);
        Assert.Equal(8, outcome.Deleted);
        var after = await KeysAsync(s, s.Alice);
        // The two keys sealed at the withdrawal are destroyed; the key made after the re-join is live and unsealed.
        Assert.Equal([(before[0].Id, true, true), (before[1].Id, true, true), (before[2].Id, false, false)], after);
        var kept = await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id);
        Assert.Equal(4, kept.Count);
        Assert.All(kept, record => Assert.NotNull(record.Payload));
        Assert.Equal(2, (await SampleData.NewestAsync(s.Db, s.Bob, s.Program.Id)).Count(r => r.Payload is not null));
        var completed = await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, completed.Status);
        var receipt = ErasureReceipt.ReadUnverified(completed.Receipt)!;
        Assert.Equal([before[0].Id, before[1].Id], receipt.KeysDestroyed);
        Assert.Equal([("mci", "events", 5L), ("mci", "locations", 3L)], receipt.Erased.Select(e => (e.Program, e.Category, e.Records)));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task KeyThisNodeFoundLive_IsNotUsedAfterAWithdrawalSealedIt_TheNextRecordsGetANewKey(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 2);
        // This batch finds the key live and the node keeps it for the next batches (DataKeyStore's live keys).
        await AddAsync(s, s.Alice, "events", 2);
        await WithdrawAsync(s);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await s.Db.Get<Revocations>().RejoinAsync(s.Alice, "mci", null, s.AliceActor, Cancellation));

        await AddAsync(s, s.Alice, "events", 3);

        var keys = await KeysAsync(s, s.Alice);
        Assert.Equal([(keys[0].Id, false, true), (keys[1].Id, false, false)], keys);
        Assert.Equal(3, await CountAsync(s, "SELECT count(*) FROM records WHERE data_key_id = @id", new { id = keys[1].Id }));
        var outcome = Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));
        Assert.Equal(4, outcome.Deleted);
        Assert.All(await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id), record => Assert.NotNull(record.Payload));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task WithdrawAgainAfterRejoin_FilesANewRequest_ThatErasesWhatWasCollectedMeanwhile(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 2);
        var first = await WithdrawAsync(s);
        Assert.True(await s.Db.Get<Revocations>().RejoinAsync(s.Alice, "mci", null, s.AliceActor, Cancellation));
        await AddAsync(s, s.Alice, "events", 3);
        var second = await WithdrawAsync(s);
        var twice = await WithdrawAsync(s);

        Assert.NotEqual(first.Reference, second.Reference);
        Assert.Equal(second.Reference, twice.Reference);
        var outcomes = await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);
        Assert.Equal(2, outcomes.Count(o => o.Completed));
        Assert.Equal(0, await RecordsAsync(s, s.Alice));
        Assert.All(await KeysAsync(s, s.Alice), key => Assert.True(key.Destroyed));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ErasureOfOneCategory_LeavesTheOtherCategoryAndItsKey(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        await AddAsync(s, s.Alice, "locations", 2);

        await WithdrawAsync(s, "locations");
        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);

        var left = await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id);
        Assert.Equal(3, left.Count);
        Assert.All(left, r => Assert.Equal(s.Program["events"], r.CategoryId));
        Assert.All(left, r => Assert.NotNull(r.Payload));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ErasureRequestWithoutWithdrawal_ErasesWhatCameBefore_AndCollectionAfterItIsKept(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        s.Clock.Advance(TimeSpan.FromMinutes(1));
        var request = await s.Db.Get<RequestDesk>().SubmitAsync(s.Alice, RequestKind.Erasure, null, null, s.AliceActor, Cancellation);
        await AddAsync(s, s.Alice, "events", 2);

        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);

        Assert.Equal(2, (await SampleData.NewestAsync(s.Db, s.Alice, s.Program.Id)).Count(r => r.Payload is not null));
        var receipt = ErasureReceipt.ReadUnverified((await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt)!;
        Assert.Equal(3, receipt.TotalRecords);
        Assert.Null(receipt.Program);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task UpheldObjection_IsErased_WhileAPendingOneIsNot(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await using (var connection = await s.Db.OpenAsync())
            await connection.ExecuteAsync("UPDATE programs SET legal_basis = 'legitimate_interest' WHERE id = @id", new { id = s.Program.Id });
        await AddAsync(s, s.Alice, "events", 3);
        var objection = await WithdrawAsync(s);
        Assert.Equal(RequestKind.Objection, objection.Kind);

        Assert.Empty(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));
        Assert.Equal(3, await RecordsAsync(s, s.Alice));

        await s.Db.Get<RequestDesk>().DecideObjectionAsync(objection.Reference, uphold: true, "Her interests prevail.", s.Officer, Cancellation);
        Assert.True(Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation)).Completed);
        Assert.Equal(0, await RecordsAsync(s, s.Alice));
        var decided = await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, objection.Reference, Cancellation);
        Assert.Equal(RequestStatus.Upheld, decided.Status);
        Assert.Equal(3, ErasureReceipt.ReadUnverified(decided.Receipt)!.TotalRecords);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DestroyedKey_IsDroppedAndZeroedFromAnotherNodesCache_BeforeItsNextRead(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 2);
        await AddAsync(s, s.Bob, "events", 1);
        await using var otherNode = s.Db.BuildServices();
        var opened = await SampleData.NewestAsync(otherNode, s.Alice, s.Program.Id);
        Assert.All(opened, r => Assert.NotNull(r.Payload));
        var aliceKey = (await KeysAsync(s, s.Alice)).Single().Id;
        var store = otherNode.GetRequiredService<DataKeyStore>();
        Assert.True(store.IsCached(aliceKey));
        byte[] cachedBytes;
        await using (var connection = await s.Db.OpenAsync())
            cachedBytes = (await store.GetManyAsync(connection, [aliceKey]))[aliceKey].Key;

        await WithdrawAsync(s);
        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);
        // The other node's next read of anything, here Bob's records.
        Assert.Single(await SampleData.NewestAsync(otherNode, s.Bob, s.Program.Id));

        Assert.False(store.IsCached(aliceKey));
        Assert.All(cachedBytes, b => Assert.Equal(0, b));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task DestroyedKey_LeavesNoWrappedBytesInTheTable(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 2);
        byte[] wrapped;
        await using (var connection = await s.Db.OpenAsync())
            wrapped = await connection.ExecuteScalarAsync<byte[]>("SELECT wrapped_key FROM data_keys WHERE subject_id = @id", new { id = s.Alice }) ?? [];
        Assert.NotEmpty(wrapped);

        await WithdrawAsync(s);
        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);

        Assert.Equal(0, await CountAsync(s, "SELECT count(*) FROM data_keys WHERE subject_id = @id AND wrapped_key IS NOT NULL", new { id = s.Alice }));
        if (engine == Engine.Sqlite)
        {
            // secure_delete and the checkpoint: the wrapped bytes are in neither the database file nor its log.
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(s.Db.Folder, "portal.db*"))
                Assert.False(Contains(await File.ReadAllBytesAsync(file, Cancellation), wrapped), $"{Path.GetFileName(file)} still holds the wrapped key");
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [Theory, MemberData(nameof(Engines))]
    public async Task HoldBeatsErasure_RequestWaitsWithTheNotice_AndFinishesAfterRelease(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 4);
        var holds = s.Db.Get<LegalHolds>();
        var hold = await holds.PlaceAsync(new HoldPlacement("alice@example.com", "mci", "Litigation 2026-7", "CASE-7", "priya@example.com",
            DateOnly.FromDateTime(s.Clock.GetUtcNow().UtcDateTime).AddDays(60), "Your data is kept for a legal case; it is erased when the case ends."), s.Officer, Cancellation);
        var request = await WithdrawAsync(s);

        var waiting = Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));
        var again = Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));

        Assert.False(waiting.Completed);
        Assert.Equal([hold.Id], again.HeldBy);
        Assert.Equal(4, await RecordsAsync(s, s.Alice));
        Assert.All(await KeysAsync(s, s.Alice), key => Assert.False(key.Destroyed));
        var open = await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.InProgress, open.Status);
        Assert.True(open.OnHold);
        Assert.Null(open.Receipt);
        Assert.Equal([hold.Notice], await holds.NoticesForRequestAsync(s.Alice, request.Reference, Cancellation));
        Assert.Empty(await holds.NoticesForRequestAsync(s.Bob, request.Reference, Cancellation));

        s.Clock.Advance(TimeSpan.FromDays(1));
        await holds.ReleaseAsync(hold.Id, "The case settled.", s.Officer, Cancellation);
        Assert.True(Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation)).Completed);

        Assert.Equal(0, await RecordsAsync(s, s.Alice));
        var done = await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, done.Status);
        Assert.False(done.OnHold);
        var heldBack = Assert.Single(ErasureReceipt.ReadUnverified(done.Receipt)!.HeldBack);
        Assert.Equal((hold.Id, 4L, hold.Notice), (heldBack.Hold, heldBack.Records, heldBack.Notice));
        Assert.NotNull(heldBack.ReleasedAt);
        Assert.Empty(await holds.NoticesForRequestAsync(s.Alice, request.Reference, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task HoldOnAnotherProgram_DoesNotKeepThisOne(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await SampleData.ProgramAsync(s.Db, "other", "events");
        await AddAsync(s, s.Alice, "events", 2);
        await s.Db.Get<LegalHolds>().PlaceAsync(new HoldPlacement(null, "other", "Audit", "CASE-8", "priya@example.com",
            DateOnly.FromDateTime(s.Clock.GetUtcNow().UtcDateTime).AddDays(10), "Kept for an audit."), s.Officer, Cancellation);

        await WithdrawAsync(s);

        Assert.True(Assert.Single(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation)).Completed);
        Assert.Equal(0, await RecordsAsync(s, s.Alice));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Completion_IsAuditedOnce_AndTheReceiptVerifiesWithThePortalsPublicKey(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        var request = await WithdrawAsync(s);

        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);
        Assert.Empty(await s.Db.Get<ErasureSweep>().RunAsync(Cancellation));

        var stored = (await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt!;
        var pem = string.Concat((await s.Db.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem));
        var check = ErasureReceipt.Verify(stored, pem);
        Assert.True(check.Valid, check.Reason);
        Assert.Equal(request.Reference, check.Receipt!.Reference);
        Assert.Equal(1, await CountAsync(s, "SELECT count(*) FROM audit_events WHERE action = @a AND subject_id = @id", new { a = AuditActions.RecordsErased, id = s.Alice }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Receipt_ChangedCountOtherKeyOrForgedSignature_IsRefused(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        var request = await WithdrawAsync(s);
        await s.Db.Get<ErasureSweep>().RunAsync(Cancellation);
        var stored = (await s.Db.Get<RequestDesk>().GetForSubjectAsync(s.Alice, request.Reference, Cancellation)).Receipt!;
        var pem = (await s.Db.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Single().Pem;
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerPem = PemEncoding.WriteString("PUBLIC KEY", stranger.ExportSubjectPublicKeyInfo());
        var lines = stored.Split('\n');
        var forgedSignature = Convert.ToBase64String(stranger.SignData(System.Text.Encoding.UTF8.GetBytes(lines[1]), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var keyId = lines[2].Split(' ')[2];

        var changedCount = stored.Replace("\"records\":3", "\"records\":2").Replace("\"totalRecords\":3", "\"totalRecords\":2");
        var forged = string.Join('\n', lines[0], lines[1], $"signature {SigningKeys.Algorithm} {keyId} {forgedSignature}", "");

        Assert.NotEqual(stored, changedCount);
        Assert.Contains("does not match", ErasureReceipt.Verify(changedCount, pem).Reason);
        Assert.Contains("not in the public key file", ErasureReceipt.Verify(stored, strangerPem).Reason);
        Assert.Contains("does not match", ErasureReceipt.Verify(forged, pem).Reason);
        Assert.True(ErasureReceipt.Verify(stored, pem).Valid);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RetentionSkipsRecordsUnderAPlacedHold_AndCountsThem(Engine engine)
    {
        await using var s = await SetupAsync(engine);
        await AddAsync(s, s.Alice, "events", 3);
        await AddAsync(s, s.Bob, "events", 2);
        await s.Db.Get<LegalHolds>().PlaceAsync(new HoldPlacement("alice@example.com", null, "Dispute", "CASE-9", "priya@example.com",
            DateOnly.FromDateTime(s.Clock.GetUtcNow().UtcDateTime).AddDays(90), "Kept for a dispute."), s.Officer, Cancellation);
        s.Clock.Advance(TimeSpan.FromDays(31));

        var run = await s.Db.Get<RetentionSweep>().RunAsync(Cancellation);

        Assert.Equal((2L, 3L), (run.Deleted, run.Held));
        Assert.Equal(3, await RecordsAsync(s, s.Alice));
    }
}
