namespace GovernancePortal.Audit;

/// <summary>
/// The root of a growing Merkle tree (RFC 9162 §2.1) kept in O(log n) memory: the roots of the perfect
/// subtrees the leaves so far make up, largest first. Appending a leaf merges the subtrees it completes; the
/// root folds them from the right, which is exactly MTH's split at the largest power of two. The checkpoint
/// job and the verification job compute every root they need in one pass over the events with it.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<byte[]> _subtrees = [];

    public long Size { get; private set; }

    /// <summary>Adds a leaf input (an event's 32 hash bytes), not yet hashed.</summary>
    public void Append(ReadOnlySpan<byte> leaf)
    {
        var node = MerkleTree.HashLeaf(leaf);
        Size++;
        for (var size = Size; (size & 1) == 0; size >>= 1)
        {
            node = MerkleTree.HashChildren(_subtrees[^1], node);
            _subtrees.RemoveAt(_subtrees.Count - 1);
        }
        _subtrees.Add(node);
    }

    public byte[] Root()
    {
        if (Size == 0)
            return MerkleTree.EmptyRoot();
        var root = _subtrees[^1];
        for (var i = _subtrees.Count - 2; i >= 0; i--)
            root = MerkleTree.HashChildren(_subtrees[i], root);
        return root;
    }
}
