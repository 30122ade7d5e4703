using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GovernancePortal.Tests.Audit;

public sealed class CheckpointStoreTests : DatabaseTests
{
    internal static async Task AppendEventsAsync(IServiceProvider services, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var scope = await services.GetRequiredService<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await services.GetRequiredService<AuditLog>().AppendAsync(scope, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "test.appended", Detail: $"event {i}"));
            await scope.CommitAsync();
        }
    }

    private static async Task<IReadOnlyDictionary<string, string>> PublishedKeysAsync(IServiceProvider services) =>
        SigningKeys.ParsePublicKeys(string.Concat((await services.GetRequiredService<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem)));

    [Theory, MemberData(nameof(Engines))]
    public async Task SignNow_SignsTheHeadsRoot_AndItsNoteVerifiesOfflineWithThePublishedKeys(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db.Services, 5);
        var store = db.Get<CheckpointStore>();

        var checkpoint = await store.SignNowAsync(Cancellation);

        Assert.Equal(5, checkpoint.TreeSize);
        Assert.Equal((await db.Get<AuditTree>().HeadAsync(5, Cancellation)).Root, checkpoint.Root);
        Assert.Equal(AuditOptions.Default.Origin, checkpoint.Origin);
        var parsed = Checkpoint.Parse(checkpoint.Note);
        Assert.Equal(checkpoint with { Id = 0 }, parsed with { Signature = checkpoint.Signature });
        Assert.Equal(checkpoint.Signature, parsed.Signature);
        Assert.True(Checkpoint.Verify(parsed, await PublishedKeysAsync(db.Services)));
        Assert.Equal(checkpoint.Id, (await store.LatestAsync(Cancellation))!.Id);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignNow_WhenTheHeadHasOne_ReturnsItAndSignsNothingNew(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db.Services, 3);
        var store = db.Get<CheckpointStore>();
        var first = await store.SignNowAsync(Cancellation);
        // Signing made the first key, and that is an event: the head moved on to 4.
        var second = await store.SignNowAsync(Cancellation);
        var third = await store.SignNowAsync(Cancellation);

        Assert.Equal((3, 4), (first.TreeSize, second.TreeSize));
        Assert.Equal(second.Id, third.Id);
        Assert.Equal(second.Signature, third.Signature);
        Assert.Equal(2, (await store.ListAsync(null, 10, Cancellation)).Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task TamperedNote_DoesNotVerify_AndAMalformedOneIsAFormatException(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db.Services, 4);
        var checkpoint = await db.Get<CheckpointStore>().SignNowAsync(Cancellation);
        var keys = await PublishedKeysAsync(db.Services);

        var biggerSize = checkpoint.Note.Replace("\n4\n", "\n5\n", StringComparison.Ordinal);
        var otherRoot = checkpoint with { RootHash = new string('a', 64) };
        var otherOrigin = checkpoint with { Origin = "governance-portal/elsewhere" };

        Assert.False(Checkpoint.Verify(Checkpoint.Parse(biggerSize), keys));
        Assert.False(Checkpoint.Verify(Checkpoint.Parse(otherRoot.Note), keys));
        Assert.False(Checkpoint.Verify(Checkpoint.Parse(otherOrigin.Note), keys));
        Assert.False(Checkpoint.Verify(checkpoint, new Dictionary<string, string>()));
        Assert.Contains("blank line", Assert.Throws<FormatException>(() => Checkpoint.Parse(checkpoint.Body)).Message, StringComparison.Ordinal);
        Assert.Contains("tree size", Assert.Throws<FormatException>(() => Checkpoint.Parse(checkpoint.Note.Replace("\n4\n", "\n04\n", StringComparison.Ordinal))).Message, StringComparison.Ordinal);
        Assert.Contains("signature line", Assert.Throws<FormatException>(() => Checkpoint.Parse(checkpoint.Note.Replace("\u2014 ", "- ", StringComparison.Ordinal))).Message, StringComparison.Ordinal);
        Assert.Equal(checkpoint.TreeSize, Checkpoint.Parse(checkpoint.Note.Replace("\n", "\r\n", StringComparison.Ordinal)).TreeSize);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RotatingTheSigningKey_KeepsEarlierCheckpointsVerifiable(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db.Services, 2);
        var store = db.Get<CheckpointStore>();
        var before = await store.SignNowAsync(Cancellation);
        await db.Get<SigningKeys>().RotateAsync(new Actor("gp (root)", []), Cancellation);
        await AppendEventsAsync(db.Services, 2);
        var after = await store.SignNowAsync(Cancellation);

        var keys = await PublishedKeysAsync(db.Services);
        Assert.NotEqual(before.KeyId, after.KeyId);
        Assert.Equal(2, keys.Count);
        Assert.True(Checkpoint.Verify(Checkpoint.Parse(before.Note), keys));
        Assert.True(Checkpoint.Verify(Checkpoint.Parse(after.Note), keys));
        Assert.False(Checkpoint.Verify(Checkpoint.Parse(before.Note), keys.Where(k => k.Key == after.KeyId).ToDictionary()));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task TwoNodesSigningAtOnce_KeepOneCheckpointPerSize(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db.Services, 6);
        await db.Get<SigningKeys>().SignAsync([1], Cancellation);
        await using var otherNode = db.BuildServices();
        var size = await db.Get<AuditTree>().SizeAsync(Cancellation);

        var signed = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            (i % 2 == 0 ? db.Get<CheckpointStore>() : otherNode.GetRequiredService<CheckpointStore>()).SignAsync(size, Cancellation))));

        Assert.Single(signed.Select(c => (c.Id, Convert.ToBase64String(c.Signature))).Distinct());
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_checkpoints"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AppendsReachingEachMultiple_GetACheckpointOfExactlyThatSize_FromTheBackgroundWorker(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<SigningKeys>().SignAsync([1], Cancellation); // the first key's event is seq 1
        await using var node = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System)
            .AddPortalCore(db.Settings with { Audit = AuditOptions.Default with { CheckpointEvery = 5 } }).BuildServiceProvider();
        var worker = node.GetServices<IHostedService>().OfType<CheckpointWorker>().Single();
        await worker.StartAsync(Cancellation);
        try
        {
            await AppendEventsAsync(node, 11);
            var store = node.GetRequiredService<CheckpointStore>();
            for (var wait = 0; wait < 200 && (await store.BySizeAsync(10, Cancellation)) is null; wait++)
                await Task.Delay(50, Cancellation);

            var sizes = (await store.ListAsync(null, 10, Cancellation)).Select(c => c.TreeSize).ToList();
            Assert.Equal([10L, 5L], sizes);
            var roots = await node.GetRequiredService<AuditTree>().RootsAsync([5, 10], Cancellation);
            Assert.Equal(roots[10], (await store.BySizeAsync(10, Cancellation))!.Root);
            Assert.Equal(roots[5], (await store.BySizeAsync(5, Cancellation))!.Root);
        }
        finally
        {
            await worker.StopAsync(Cancellation);
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task CatchUp_SignsEveryMultipleMissed_AndThenNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var node = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System)
            .AddPortalCore(db.Settings with { Audit = AuditOptions.Default with { CheckpointEvery = 4 } }).BuildServiceProvider();
        await AppendEventsAsync(node, 13);
        var store = node.GetRequiredService<CheckpointStore>();

        var caughtUp = await store.CatchUpAsync(Cancellation);
        var again = await store.CatchUpAsync(Cancellation);

        Assert.Equal([4L, 8L, 12L], caughtUp.Select(c => c.TreeSize));
        Assert.Empty(again);
        Assert.Equal(12, (await store.CoveringAsync(9, Cancellation))!.TreeSize);
        Assert.Equal(4, (await store.CoveringAsync(1, Cancellation))!.TreeSize);
        Assert.Equal([8L, 4L], (await store.ListAsync(12, 10, Cancellation)).Select(c => c.TreeSize));
    }
}
