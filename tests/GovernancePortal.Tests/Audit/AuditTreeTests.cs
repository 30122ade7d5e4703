using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Audit;

public sealed class AuditTreeTests : DatabaseTests
{
    private static async Task<IReadOnlyList<byte[]>> AppendEventsAsync(TestDatabase db, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "test.appended", Detail: $"event {i}"));
            await scope.CommitAsync();
        }
        await using var connection = await db.OpenAsync();
        return (await connection.AuditEventsAsync()).Select(e => Convert.FromHexString(e.Hash)).ToList();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Head_EverySize_IsTheMerkleRootOfThatManyEventHashesInSeqOrder(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var hashes = await AppendEventsAsync(db, 9);
        var tree = db.Get<AuditTree>();

        Assert.Equal(9, await tree.SizeAsync(Cancellation));
        foreach (var size in Enumerable.Range(0, 10))
            Assert.Equal(MerkleTree.Root(hashes.Take(size).ToList()), (await tree.HeadAsync(size, Cancellation)).Root);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task InclusionProof_OfEachEvent_VerifiesAgainstTheHeadOfItsSize(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var hashes = await AppendEventsAsync(db, 7);
        var tree = db.Get<AuditTree>();

        foreach (var size in new[] { 1, 5, 7 })
        {
            var head = await tree.HeadAsync(size, Cancellation);
            foreach (var seq in Enumerable.Range(1, size))
            {
                var proof = await tree.InclusionProofAsync(seq, size, Cancellation);
                Assert.Equal((seq, seq - 1L), (proof.Seq, proof.Index));
                Assert.Equal(hashes[seq - 1], proof.Leaf);
                Assert.Equal(head.Root, proof.Head.Root);
                Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyInclusion(proof.Leaf, proof.Index, size, proof.Path, head.Root));
            }
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ConsistencyProof_BetweenAnyTwoSizes_Verifies(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 6);
        var tree = db.Get<AuditTree>();

        foreach (var (oldSize, newSize) in new[] { (0, 6), (1, 6), (3, 6), (4, 6), (6, 6), (2, 5) })
        {
            var proof = await tree.ConsistencyProofAsync(oldSize, newSize, Cancellation);
            Assert.Equal((await tree.HeadAsync(oldSize, Cancellation)).Root, proof.OldHead.Root);
            Assert.Equal((await tree.HeadAsync(newSize, Cancellation)).Root, proof.NewHead.Root);
            Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyConsistency(oldSize, proof.OldHead.Root, newSize, proof.NewHead.Root, proof.Path));
        }
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Proofs_BeyondTheHeadOrOutsideTheTree_AreRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 3);
        var tree = db.Get<AuditTree>();

        await Assert.ThrowsAsync<NotFoundProblem>(() => tree.HeadAsync(4, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => tree.InclusionProofAsync(1, 4, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => tree.ConsistencyProofAsync(2, 4, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => tree.InclusionProofAsync(3, 2, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => tree.InclusionProofAsync(0, 3, Cancellation));
        await Assert.ThrowsAsync<RuleViolation>(() => tree.ConsistencyProofAsync(3, 2, Cancellation));
    }

    /// <summary>The three events of docs/audit-log.md ("Worked example" and "Merkle tree and proofs").</summary>
    private static readonly AuditEvent[] DocumentedEvents = DocumentedLog();

    private static AuditEvent[] DocumentedLog()
    {
        var first = new AuditEvent
        {
            Seq = 1, OccurredAt = DateTimeOffset.Parse("2026-11-27T09:15:00.1234560Z"), Actor = "priya@example.com",
            ActorRoles = "Employee,PrivacyOfficer", Action = "program.paused", Program = "mci",
            Detail = "Pause of all categories: leak under investigation", PrevHash = AuditChain.GenesisHash,
        };
        first = first with { Hash = AuditChain.ComputeHash(first) };
        var second = new AuditEvent
        {
            Seq = 2, OccurredAt = DateTimeOffset.Parse("2026-11-27T09:20:07.5000000Z"), Actor = "dana@example.com",
            ActorRoles = "DataConsumer,Employee", Action = "records.read", SubjectId = 42, Program = "mci",
            Purpose = "model-training", Detail = "categories: keystrokes; grant 7", RecordCount = 120, PrevHash = first.Hash,
        };
        second = second with { Hash = AuditChain.ComputeHash(second) };
        var third = new AuditEvent
        {
            Seq = 3, OccurredAt = DateTimeOffset.Parse("2026-11-27T09:31:44.0000000Z"), Actor = "priya@example.com",
            ActorRoles = "Employee,PrivacyOfficer", Action = "program.resumed", Program = "mci",
            Detail = "Resume of all categories: leak closed", PrevHash = second.Hash,
        };
        return [first, second, third with { Hash = AuditChain.ComputeHash(third) }];
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    [Fact]
    public void WorkedExample_OfTheDocument_HasTheDocumentedHashesRootAndProofs()
    {
        var leaves = DocumentedEvents.Select(e => Convert.FromHexString(e.Hash)).ToList();

        Assert.Equal(["f769846ca3882820c046fd8ca5df4e4bb54d29774ebde6efbc519b5070fadcd3", "ff3aff8559d937a31be2e4e7325d9c8d388fa382310dd7c21495b8105208d920",
            "af7e527b7e2d78812d76552f7b007fad9c2a755bc1fe954714fa7e6c570e045b"], DocumentedEvents.Select(e => e.Hash));
        Assert.Equal(["18a5e8e22e7964b82bcc5f98ff5dcd7510a2f25c0c3cc624c913547efbdf61e1", "79690fba9c8ebdb67574964871b3f6e0609597065b6baf1e3b1d6e714093ab4f",
            "9208605b47a1473dde70eb788ee66f1084653292fdf365e942f2dd980afc27a5"], leaves.Select(leaf => Hex(MerkleTree.HashLeaf(leaf))));
        Assert.Equal("36f0c047fcddc75752441206e5b815dfd138090d40550b174ed2bd499e366b33", Hex(MerkleTree.Root(leaves.Take(2).ToList())));
        Assert.Equal("01a48b3a7620e1a4aeafb25d2895217505bedc8b7fb753de2f7e31dc937d7066", Hex(MerkleTree.Root(leaves)));
        Assert.Equal(["79690fba9c8ebdb67574964871b3f6e0609597065b6baf1e3b1d6e714093ab4f", "9208605b47a1473dde70eb788ee66f1084653292fdf365e942f2dd980afc27a5"], MerkleTree.InclusionProof(leaves, 0).Select(Hex));
        Assert.Equal(["9208605b47a1473dde70eb788ee66f1084653292fdf365e942f2dd980afc27a5"], MerkleTree.ConsistencyProof(leaves, 2).Select(Hex));
    }
}
