namespace GovernancePortal.Audit;

/// <summary>
/// The RFC 9162 root (MTH) of leaves added one at a time, in O(log n) memory: complete subtrees are
/// merged as soon as two of one size meet, and what is left is folded from the right at the end, which
/// gives exactly <see cref="MerkleTree.Root"/>'s split at the largest power of two. For roots over
/// millions of events read forward-only (an export's manifest, an offline verifier).
/// </summary>
public sealed class MerkleRootBuilder
{
    private readonly List<(byte[] Hash, long Size)> _stack = [];

    public long Count { get; private set; }

    /// <summary>Adds the next leaf input (an event hash's 32 raw bytes).</summary>
    public void Add(ReadOnlySpan<byte> leafInput)
    {
        var hash = MerkleTree.HashLeaf(leafInput);
        long size = 1;
        while (_stack.Count > 0 && _stack[^1].Size == size)
        {
            hash = MerkleTree.HashChildren(_stack[^1].Hash, hash);
            size *= 2;
            _stack.RemoveAt(_stack.Count - 1);
        }
        _stack.Add((hash, size));
        Count++;
    }

    public byte[] Root()
    {
        if (_stack.Count == 0)
            return MerkleTree.EmptyRoot();
        var root = _stack[^1].Hash;
        for (var i = _stack.Count - 2; i >= 0; i--)
            root = MerkleTree.HashChildren(_stack[i].Hash, root);
        return root;
    }
}
