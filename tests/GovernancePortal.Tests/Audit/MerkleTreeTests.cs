using GovernancePortal.Audit;

namespace GovernancePortal.Tests.Audit;

public sealed class MerkleTreeTests
{
    private const int MaxSize = 20;

    // One more than the largest tree, so a proof can be tried against a tree one leaf bigger.
    private static readonly byte[][] Leaves = Enumerable.Range(0, MaxSize + 1)
        .Select(i => System.Security.Cryptography.SHA256.HashData([(byte)i, 0x5a]))
        .ToArray();

    private static byte[][] First(int n) => Leaves[..n];

    private static byte[] RootOf(int n) => MerkleTree.Root(First(n));

    private static byte[] Flip(byte[] bytes, int at = 0)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x01;
        return copy;
    }

    private static IEnumerable<(int M, int N)> InclusionCases() =>
        from n in Enumerable.Range(1, MaxSize) from m in Enumerable.Range(0, n) select (m, n);

    private static IEnumerable<(int M, int N)> ConsistencyCases() =>
        from n in Enumerable.Range(1, MaxSize) from m in Enumerable.Range(1, n) select (m, n);

    [Fact]
    public void Root_RfcTestVectors_MatchTheCertificateTransparencyValues()
    {
        // The RFC 6962 / 9162 reference vectors (certificate-transparency's merkle tree tests): an
        // implementation that splits, prefixes or orders differently gets other roots.
        string[] hex = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
        var inputs = hex.Select(Convert.FromHexString).ToArray();
        string[] roots =
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];

        Assert.Equal(roots, Enumerable.Range(1, inputs.Length).Select(n => Convert.ToHexStringLower(MerkleTree.Root(inputs[..n]))));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleTree.Root([])));
    }

    [Fact]
    public void Root_OfTwoLeaves_IsTheNodeHashOfTheirLeafHashes()
    {
        var expected = MerkleTree.HashChildren(MerkleTree.HashLeaf(Leaves[0]), MerkleTree.HashLeaf(Leaves[1]));

        Assert.Equal(expected, MerkleTree.Root(First(2)));
        Assert.NotEqual(System.Security.Cryptography.SHA256.HashData([.. Leaves[0], .. Leaves[1]]), MerkleTree.Root(First(2)));
    }

    [Fact]
    public void InclusionProof_EveryLeafOfEveryTreeUpTo20_Verifies()
    {
        Assert.All(InclusionCases(), c =>
        {
            var proof = MerkleTree.InclusionProof(First(c.N), c.M);
            Assert.Equal(MerkleTree.Root(First(c.N)), RootOf(c.N));
            Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, proof, RootOf(c.N)));
        });
    }

    [Fact]
    public void InclusionProof_ChangedLeafOrOtherIndex_Fails()
    {
        Assert.All(InclusionCases(), c =>
        {
            var proof = MerkleTree.InclusionProof(First(c.N), c.M);
            Assert.False(MerkleTree.VerifyInclusion(Flip(Leaves[c.M]), c.M, c.N, proof, RootOf(c.N)).Verified);
            Assert.False(MerkleTree.VerifyInclusion(Flip(Leaves[c.M], 31), c.M, c.N, proof, RootOf(c.N)).Verified);
            foreach (var other in Enumerable.Range(0, c.N).Where(i => i != c.M))
                Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], other, c.N, proof, RootOf(c.N)).Verified);
        });
    }

    [Fact]
    public void InclusionProof_AgainstATreeWithALeafRemoved_Fails()
    {
        Assert.All(InclusionCases().Where(c => c.N > 1), c =>
        {
            var proof = MerkleTree.InclusionProof(First(c.N), c.M);
            foreach (var removed in Enumerable.Range(0, c.N))
            {
                var shorter = First(c.N).Where((_, i) => i != removed).ToArray();
                Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, proof, MerkleTree.Root(shorter)).Verified);
                Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N - 1, proof, MerkleTree.Root(shorter)).Verified);
            }
        });
    }

    [Fact]
    public void InclusionProof_ForAnotherTreeSize_Fails()
    {
        // A size always comes with its root (a checkpoint holds both): the proof of size n does not hold for n ± 1.
        Assert.All(InclusionCases(), c =>
        {
            var proof = MerkleTree.InclusionProof(First(c.N), c.M);
            Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N + 1, proof, RootOf(c.N + 1)).Verified);
            if (c.M < c.N - 1)
                Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N - 1, proof, RootOf(c.N - 1)).Verified);
        });
    }

    [Fact]
    public void InclusionProof_TruncatedExtendedOrAlteredPath_Fails()
    {
        Assert.All(InclusionCases(), c =>
        {
            var proof = MerkleTree.InclusionProof(First(c.N), c.M);
            var root = RootOf(c.N);
            Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, [.. proof, Leaves[0]], root).Verified);
            Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, [Leaves[0], .. proof], root).Verified);
            if (proof.Count == 0)
                return;
            Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, proof.Take(proof.Count - 1).ToList(), root).Verified);
            Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, proof.Skip(1).ToList(), root).Verified);
            for (var i = 0; i < proof.Count; i++)
                Assert.False(MerkleTree.VerifyInclusion(Leaves[c.M], c.M, c.N, proof.Select((p, j) => j == i ? Flip(p) : p).ToList(), root).Verified);
        });
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(5, 5)]
    [InlineData(0, 0)]
    public void VerifyInclusion_IndexOutsideTheTree_FailsNamingIt(long index, long size)
    {
        var check = MerkleTree.VerifyInclusion(Leaves[0], index, size, [], MerkleTree.EmptyRoot());

        Assert.Equal(ProofCheck.Fail($"leaf index {index} is not in a tree of size {size}"), check);
    }

    [Fact]
    public void ConsistencyProof_EveryPairOfSizesUpTo20_Verifies()
    {
        Assert.All(ConsistencyCases(), c =>
        {
            var proof = MerkleTree.ConsistencyProof(First(c.N), c.M);
            Assert.Equal(c.M == c.N, proof.Count == 0);
            Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N, RootOf(c.N), proof));
        });
    }

    [Fact]
    public void ConsistencyProof_FromTheEmptyTree_IsEmptyAndNeedsTheEmptyRoot()
    {
        Assert.Empty(MerkleTree.ConsistencyProof(First(7), 0));
        Assert.True(MerkleTree.VerifyConsistency(0, MerkleTree.EmptyRoot(), 7, RootOf(7), []).Verified);
        Assert.False(MerkleTree.VerifyConsistency(0, RootOf(1), 7, RootOf(7), []).Verified);
        Assert.False(MerkleTree.VerifyConsistency(0, MerkleTree.EmptyRoot(), 7, RootOf(7), [RootOf(7)]).Verified);
    }

    [Fact]
    public void ConsistencyProof_WhenAnOldLeafWasChanged_Fails()
    {
        Assert.All(ConsistencyCases(), c =>
        {
            var proof = MerkleTree.ConsistencyProof(First(c.N), c.M);
            foreach (var changed in Enumerable.Range(0, c.N))
            {
                var rewritten = First(c.N).Select((leaf, i) => i == changed ? Flip(leaf) : leaf).ToArray();
                // The log rewritten after the auditor kept the old root: its new root has no proof from the old one.
                Assert.False(MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N, MerkleTree.Root(rewritten), proof).Verified);
                // Nor does its own proof, when the changed leaf was already in the old tree.
                if (changed < c.M)
                    Assert.False(MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N, MerkleTree.Root(rewritten), MerkleTree.ConsistencyProof(rewritten, c.M)).Verified);
            }
        });
    }

    [Fact]
    public void ConsistencyProof_WhenAnOldLeafWasRemoved_Fails()
    {
        Assert.All(ConsistencyCases().Where(c => c.M < c.N), c =>
        {
            foreach (var removed in Enumerable.Range(0, c.M))
            {
                var shorter = First(c.N).Where((_, i) => i != removed).ToArray();
                var proof = MerkleTree.ConsistencyProof(shorter, c.M);
                Assert.False(MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N - 1, MerkleTree.Root(shorter), proof).Verified);
            }
        });
    }

    [Fact]
    public void ConsistencyProof_ForOtherSizes_Fails()
    {
        Assert.All(ConsistencyCases().Where(c => c.M < c.N), c =>
        {
            var proof = MerkleTree.ConsistencyProof(First(c.N), c.M);
            Assert.False(MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N + 1, RootOf(c.N + 1), proof).Verified);
            Assert.False(MerkleTree.VerifyConsistency(c.M + 1, RootOf(c.M + 1), c.N, RootOf(c.N), proof).Verified);
            if (c.M > 1)
                Assert.False(MerkleTree.VerifyConsistency(c.M - 1, RootOf(c.M - 1), c.N, RootOf(c.N), proof).Verified);
            if (c.N - 1 > c.M)
                Assert.False(MerkleTree.VerifyConsistency(c.M, RootOf(c.M), c.N - 1, RootOf(c.N - 1), proof).Verified);
        });
    }

    [Fact]
    public void ConsistencyProof_TruncatedExtendedOrAlteredPath_Fails()
    {
        Assert.All(ConsistencyCases(), c =>
        {
            var proof = MerkleTree.ConsistencyProof(First(c.N), c.M);
            var (oldRoot, newRoot) = (RootOf(c.M), RootOf(c.N));
            Assert.False(MerkleTree.VerifyConsistency(c.M, oldRoot, c.N, newRoot, [.. proof, Leaves[0]]).Verified);
            Assert.False(MerkleTree.VerifyConsistency(c.M, oldRoot, c.N, newRoot, [Leaves[0], .. proof]).Verified);
            if (proof.Count == 0)
                return;
            Assert.False(MerkleTree.VerifyConsistency(c.M, oldRoot, c.N, newRoot, proof.Take(proof.Count - 1).ToList()).Verified);
            Assert.False(MerkleTree.VerifyConsistency(c.M, oldRoot, c.N, newRoot, proof.Skip(1).ToList()).Verified);
            for (var i = 0; i < proof.Count; i++)
                Assert.False(MerkleTree.VerifyConsistency(c.M, oldRoot, c.N, newRoot, proof.Select((p, j) => j == i ? Flip(p) : p).ToList()).Verified);
        });
    }

    [Fact]
    public void VerifyConsistency_EqualSizes_NeedTheSameRootAndNoHashes()
    {
        Assert.True(MerkleTree.VerifyConsistency(5, RootOf(5), 5, RootOf(5), []).Verified);
        Assert.Equal(ProofCheck.Fail("trees of the same size have different roots"), MerkleTree.VerifyConsistency(5, RootOf(5), 5, RootOf(4), []));
        Assert.False(MerkleTree.VerifyConsistency(6, RootOf(6), 5, RootOf(5), []).Verified);
    }

    [Fact]
    public void FrontierRootsAndRangeHashes_AgreeWithTheRecursiveDefinition_ForEverySizeUpTo40()
    {
        var leaves = Enumerable.Range(0, 40).Select(i => System.Security.Cryptography.SHA256.HashData([(byte)i])).ToList();
        for (var size = 1; size <= leaves.Count; size++)
        {
            var tree = leaves.Take(size).ToList();
            var inclusion = Enumerable.Range(0, size).ToDictionary(index => index, index => MerkleTree.InclusionRanges(index, size));
            var consistency = Enumerable.Range(0, size + 1).ToDictionary(old => old, old => MerkleTree.ConsistencyRanges(old, size));
            var frontier = new MerkleFrontier(inclusion.Values.Concat(consistency.Values).SelectMany(r => r));
            Assert.Equal(MerkleTree.EmptyRoot(), new MerkleFrontier().Root());
            foreach (var leaf in tree)
                frontier.Append(leaf);

            Assert.Equal(MerkleTree.Root(tree), frontier.Root());
            foreach (var (index, ranges) in inclusion)
                Assert.Equal(MerkleTree.InclusionProof(tree, index), ranges.Select(frontier.Hash));
            foreach (var (old, ranges) in consistency)
                Assert.Equal(MerkleTree.ConsistencyProof(tree, old), ranges.Select(frontier.Hash));
        }
    }
}
