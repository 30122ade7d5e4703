using System.Security.Cryptography;

namespace GovernancePortal.Audit;

/// <summary>
/// The RFC 9162 root (MTH) of leaves added one at a time, in O(log n) memory: complete subtrees are
/// merged as soon as two of one size meet, and what is left is folded from the right at the end, which
/// gives exactly <see cref="MerkleTree.Root"/>'s split at the largest power of two. For roots over
/// millions of events read forward-only (an export's manifest, an offline verifier); it allocates nothing per leaf.
/// </summary>
public sealed class MerkleRootBuilder
{
    private const int Size = MerkleTree.HashSize;

    // Subtree hashes, largest first; subtree i covers 2^_heights[i] leaves. 64 levels hold any long count.
    private readonly byte[] _hashes = new byte[64 * Size];
    private readonly int[] _heights = new int[64];
    private readonly byte[] _input = new byte[1 + 2 * Size];
    private int _count;

    public long Count { get; private set; }

    /// <summary>Adds the next leaf input (an event hash's 32 raw bytes).</summary>
    public void Add(ReadOnlySpan<byte> leafInput)
    {
        if (leafInput.Length != Size)
        {
            AddHash(MerkleTree.HashLeaf(leafInput));
            return;
        }
        _input[0] = 0x00;
        leafInput.CopyTo(_input.AsSpan(1));
        Span<byte> leaf = stackalloc byte[Size];
        SHA256.HashData(_input.AsSpan(0, 1 + Size), leaf);
        AddHash(leaf);
    }

    private void AddHash(ReadOnlySpan<byte> leaf)
    {
        leaf.CopyTo(Slot(_count));
        _heights[_count] = 0;
        _count++;
        while (_count > 1 && _heights[_count - 1] == _heights[_count - 2])
        {
            _input[0] = 0x01;
            Slot(_count - 2).CopyTo(_input.AsSpan(1));
            Slot(_count - 1).CopyTo(_input.AsSpan(1 + Size));
            SHA256.HashData(_input, Slot(_count - 2));
            _heights[_count - 2]++;
            _count--;
        }
        Count++;
    }

    public byte[] Root()
    {
        if (_count == 0)
            return MerkleTree.EmptyRoot();
        var root = Slot(_count - 1).ToArray();
        for (var i = _count - 2; i >= 0; i--)
            root = MerkleTree.HashChildren(Slot(i), root);
        return root;
    }

    private Span<byte> Slot(int i) => _hashes.AsSpan(i * Size, Size);
}
