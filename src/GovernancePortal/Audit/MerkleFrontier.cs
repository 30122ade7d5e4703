namespace GovernancePortal.Audit;

/// <summary>
/// A Merkle tree (RFC 9162 §2.1) built leaf by leaf in O(log n) memory: the perfect subtrees the leaves so far
/// make up, largest first. Appending a leaf merges the subtrees it completes; the root folds them from the right,
/// which is exactly MTH's split at the largest power of two. Given the ranges a proof needs
/// (<see cref="MerkleTree.InclusionRanges"/>, <see cref="MerkleTree.ConsistencyRanges"/>), it keeps their hashes as
/// they go by, so roots, proofs and checkpoints all come from one streamed pass over the event hashes.
/// </summary>
public sealed class MerkleFrontier(IEnumerable<(long Start, long End)>? wanted = null)
{
    private readonly List<(long Start, long Size, byte[] Hash)> _subtrees = [];
    private readonly HashSet<(long Start, long End)> _wanted = wanted?.ToHashSet() ?? [];
    private readonly Dictionary<(long Start, long End), byte[]> _kept = [];

    public long Size { get; private set; }

    /// <summary>Adds a leaf input (an event's 32 hash bytes), not yet hashed.</summary>
    public void Append(ReadOnlySpan<byte> leaf)
    {
        var node = (Start: Size, Size: 1L, Hash: MerkleTree.HashLeaf(leaf));
        Size++;
        Keep(node);
        for (var size = Size; (size & 1) == 0; size >>= 1)
        {
            var left = _subtrees[^1];
            _subtrees.RemoveAt(_subtrees.Count - 1);
            node = (left.Start, left.Size * 2, MerkleTree.HashChildren(left.Hash, node.Hash));
            Keep(node);
        }
        _subtrees.Add(node);
    }

    /// <summary>MTH of the leaves so far.</summary>
    public byte[] Root() => _subtrees.Count == 0 ? MerkleTree.EmptyRoot() : Fold(0);

    /// <summary>
    /// MTH of leaves [start, end): a wanted perfect subtree kept on the way, or a range that ends at the leaves so
    /// far, folded from the subtrees now held (a proof's ranges are always one or the other).
    /// </summary>
    public byte[] Hash((long Start, long End) range)
    {
        if (_kept.TryGetValue(range, out var hash))
            return hash;
        var first = _subtrees.FindIndex(node => node.Start == range.Start);
        if (range.End != Size || first < 0)
            throw new InvalidOperationException($"The hash of leaves [{range.Start}, {range.End}) was not kept at size {Size}.");
        return Fold(first);
    }

    private void Keep((long Start, long Size, byte[] Hash) node)
    {
        if (_wanted.Contains((node.Start, node.Start + node.Size)))
            _kept[(node.Start, node.Start + node.Size)] = node.Hash;
    }

    private byte[] Fold(int first)
    {
        var root = _subtrees[^1].Hash;
        for (var i = _subtrees.Count - 2; i >= first; i--)
            root = MerkleTree.HashChildren(_subtrees[i].Hash, root);
        return root;
    }
}
