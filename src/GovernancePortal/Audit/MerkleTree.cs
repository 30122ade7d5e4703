using System.Numerics;
using System.Security.Cryptography;

namespace GovernancePortal.Audit;

/// <summary>The outcome of checking a proof: verified, or the one reason it is not.</summary>
public sealed record ProofCheck(bool Verified, string? Failure)
{
    public static readonly ProofCheck Ok = new(true, null);

    public static ProofCheck Fail(string failure) => new(false, failure);
}

/// <summary>
/// Merkle tree hashing, inclusion and consistency proofs as in RFC 9162 §2.1, over leaf inputs in
/// order. For the audit log a leaf input is the 32 raw bytes of an event's <c>hash</c> (the hex
/// decoded), in seq order: the event hash already commits to every field, so hashing its bytes
/// rather than its hex or its canonical encoding keeps leaves small and the encoding in one place
/// (docs/audit-log.md, "Merkle tree and proofs").
/// </summary>
public static class MerkleTree
{
    public const int HashSize = 32;

    /// <summary>MTH of the empty tree: SHA-256 of no bytes.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData(ReadOnlySpan<byte>.Empty);

    public static byte[] HashLeaf(ReadOnlySpan<byte> leaf)
    {
        Span<byte> input = leaf.Length < 256 ? stackalloc byte[leaf.Length + 1] : new byte[leaf.Length + 1];
        input[0] = 0x00;
        leaf.CopyTo(input[1..]);
        return SHA256.HashData(input);
    }

    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> input = stackalloc byte[1 + 2 * HashSize];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + HashSize)..]);
        return SHA256.HashData(input);
    }

    /// <summary>MTH(D[n]) where n is the number of <paramref name="leaves"/>.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves) =>
        leaves.Count == 0 ? EmptyRoot() : Subtree(HashLeaves(leaves), 0, leaves.Count);

    /// <summary>PATH(m, D[n]) (§2.1.3.1): the inclusion proof of leaf <paramref name="index"/> (0-based) in the tree of all <paramref name="leaves"/>.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leaves, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leaves.Count);
        var proof = new List<byte[]>();
        Path(HashLeaves(leaves), index, 0, leaves.Count, proof);
        return proof;
    }

    /// <summary>
    /// PROOF(m, D[n]) (§2.1.4.1) between the first <paramref name="oldSize"/> leaves and all of them.
    /// Empty when the sizes are equal or the old tree is empty: there is nothing to prove then.
    /// </summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leaves, int oldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, leaves.Count);
        var proof = new List<byte[]>();
        if (oldSize > 0 && oldSize < leaves.Count)
            SubProof(HashLeaves(leaves), oldSize, 0, leaves.Count, complete: true, proof);
        return proof;
    }

    /// <summary>§2.1.3.2: does <paramref name="proof"/> show <paramref name="leaf"/> (a leaf input, not yet hashed) at <paramref name="index"/> of the tree of <paramref name="size"/> with <paramref name="root"/>?</summary>
    public static ProofCheck VerifyInclusion(ReadOnlySpan<byte> leaf, long index, long size, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size)
            return ProofCheck.Fail($"leaf index {index} is not in a tree of size {size}");
        var fn = index;
        var sn = size - 1;
        var r = HashLeaf(leaf);
        foreach (var p in proof)
        {
            if (sn == 0)
                return ProofCheck.Fail($"the proof has more hashes than leaf {index} of a tree of size {size} needs");
            if ((fn & 1) == 1 || fn == sn)
            {
                r = HashChildren(p, r);
                while ((fn & 1) == 0 && fn != 0)
                    (fn, sn) = (fn >> 1, sn >> 1);
            }
            else
            {
                r = HashChildren(r, p);
            }
            (fn, sn) = (fn >> 1, sn >> 1);
        }
        if (sn != 0)
            return ProofCheck.Fail($"the proof has fewer hashes than leaf {index} of a tree of size {size} needs");
        return r.AsSpan().SequenceEqual(root) ? ProofCheck.Ok : ProofCheck.Fail("the proof does not lead to the given root");
    }

    /// <summary>§2.1.4.2: does <paramref name="proof"/> show that the tree of <paramref name="newSize"/> extends the one of <paramref name="oldSize"/>?</summary>
    public static ProofCheck VerifyConsistency(long oldSize, ReadOnlySpan<byte> oldRoot, long newSize, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize < 0 || oldSize > newSize)
            return ProofCheck.Fail($"old size {oldSize} is not between 0 and new size {newSize}");
        if (oldSize == newSize || oldSize == 0)
        {
            if (proof.Count != 0)
                return ProofCheck.Fail($"a proof from size {oldSize} to size {newSize} has no hashes");
            if (oldSize == 0)
                return oldRoot.SequenceEqual(EmptyRoot()) ? ProofCheck.Ok : ProofCheck.Fail("the old root is not the root of the empty tree");
            return oldRoot.SequenceEqual(newRoot) ? ProofCheck.Ok : ProofCheck.Fail("trees of the same size have different roots");
        }
        if (proof.Count == 0)
            return ProofCheck.Fail($"the proof has no hashes, and size {oldSize} to size {newSize} needs some");

        // When the old tree is a complete subtree its root is the first node of the path, and the RFC leaves it out.
        IReadOnlyList<byte[]> path = BitOperations.IsPow2(oldSize) ? [oldRoot.ToArray(), .. proof] : proof;
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
            (fn, sn) = (fn >> 1, sn >> 1);
        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
                return ProofCheck.Fail($"the proof has more hashes than size {oldSize} to size {newSize} needs");
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = HashChildren(c, fr);
                sr = HashChildren(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                    (fn, sn) = (fn >> 1, sn >> 1);
            }
            else
            {
                sr = HashChildren(sr, c);
            }
            (fn, sn) = (fn >> 1, sn >> 1);
        }
        if (sn != 0)
            return ProofCheck.Fail($"the proof has fewer hashes than size {oldSize} to size {newSize} needs");
        if (!fr.AsSpan().SequenceEqual(oldRoot))
            return ProofCheck.Fail("the proof does not lead to the old root");
        return sr.AsSpan().SequenceEqual(newRoot) ? ProofCheck.Ok : ProofCheck.Fail("the proof does not lead to the new root");
    }

    /// <summary>
    /// The leaf ranges [start, end) whose MTH make up PATH(index, D[size]), in proof order: the same recursion as
    /// <see cref="InclusionProof(IReadOnlyList{byte[]}, int)"/>, without the hashes, for <see cref="MerkleFrontier"/> to fill.
    /// </summary>
    public static IReadOnlyList<(long Start, long End)> InclusionRanges(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        var ranges = new List<(long Start, long End)>();
        PathRanges(index, 0, size, ranges);
        return ranges;
    }

    /// <summary>The leaf ranges whose MTH make up PROOF(oldSize, D[newSize]), in proof order (none for equal sizes or an empty old tree).</summary>
    public static IReadOnlyList<(long Start, long End)> ConsistencyRanges(long oldSize, long newSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        var ranges = new List<(long Start, long End)>();
        if (oldSize > 0 && oldSize < newSize)
            SubProofRanges(oldSize, 0, newSize, complete: true, ranges);
        return ranges;
    }

    private static void PathRanges(long index, long start, long count, List<(long Start, long End)> ranges)
    {
        if (count == 1)
            return;
        var k = Split(count);
        if (index < k)
        {
            PathRanges(index, start, k, ranges);
            ranges.Add((start + k, start + count));
        }
        else
        {
            PathRanges(index - k, start + k, count - k, ranges);
            ranges.Add((start, start + k));
        }
    }

    private static void SubProofRanges(long m, long start, long count, bool complete, List<(long Start, long End)> ranges)
    {
        if (m == count)
        {
            if (!complete)
                ranges.Add((start, start + count));
            return;
        }
        var k = Split(count);
        if (m <= k)
        {
            SubProofRanges(m, start, k, complete, ranges);
            ranges.Add((start + k, start + count));
        }
        else
        {
            SubProofRanges(m - k, start + k, count - k, complete: false, ranges);
            ranges.Add((start, start + k));
        }
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2), for sizes past int.</summary>
    private static long Split(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    private static byte[][] HashLeaves(IReadOnlyList<byte[]> leaves)
    {
        var hashed = new byte[leaves.Count][];
        for (var i = 0; i < hashed.Length; i++)
            hashed[i] = HashLeaf(leaves[i]);
        return hashed;
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2): where the RFC splits a tree.</summary>
    private static int Split(int n) => 1 << (31 - BitOperations.LeadingZeroCount((uint)(n - 1)));

    private static byte[] Subtree(byte[][] hashed, int start, int count)
    {
        if (count == 1)
            return hashed[start];
        var k = Split(count);
        return HashChildren(Subtree(hashed, start, k), Subtree(hashed, start + k, count - k));
    }

    private static void Path(byte[][] hashed, int index, int start, int count, List<byte[]> proof)
    {
        if (count == 1)
            return;
        var k = Split(count);
        if (index < k)
        {
            Path(hashed, index, start, k, proof);
            proof.Add(Subtree(hashed, start + k, count - k));
        }
        else
        {
            Path(hashed, index - k, start + k, count - k, proof);
            proof.Add(Subtree(hashed, start, k));
        }
    }

    private static void SubProof(byte[][] hashed, int m, int start, int count, bool complete, List<byte[]> proof)
    {
        if (m == count)
        {
            if (!complete)
                proof.Add(Subtree(hashed, start, count));
            return;
        }
        var k = Split(count);
        if (m <= k)
        {
            SubProof(hashed, m, start, k, complete, proof);
            proof.Add(Subtree(hashed, start + k, count - k));
        }
        else
        {
            SubProof(hashed, m - k, start + k, count - k, complete: false, proof);
            proof.Add(Subtree(hashed, start, k));
        }
    }
}
