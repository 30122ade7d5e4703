using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>The root of the audit log's Merkle tree at one size (its first <see cref="Size"/> events).</summary>
public sealed record TreeHead(long Size, byte[] Root);

/// <summary>Event <see cref="Seq"/> (leaf <see cref="Index"/> = seq − 1) is in the tree of <see cref="Head"/>.</summary>
public sealed record InclusionProof(long Seq, long Index, byte[] Leaf, TreeHead Head, IReadOnlyList<byte[]> Path);

/// <summary>The tree of <see cref="NewHead"/> extends the one of <see cref="OldHead"/>.</summary>
public sealed record ConsistencyProof(TreeHead OldHead, TreeHead NewHead, IReadOnlyList<byte[]> Path);

/// <summary>
/// The audit log as a Merkle tree (<see cref="MerkleTree"/>): roots and proofs for any size up to
/// the head. Each question loads the first <c>size</c> event hashes in one ordered query and hashes
/// them in memory (32 bytes a leaf): fine up to a few hundred thousand events; past that it wants
/// stored subtree hashes. A proof carries only hashes, never an event's fields, so reading one is
/// not itself audited.
/// </summary>
public sealed class AuditTree(ConnectionFactory connections)
{
    private const string HashesUpTo = "SELECT hash FROM audit_events WHERE seq <= @Size ORDER BY seq";

    private const string HeadSeq = "SELECT coalesce(max(seq), 0) FROM audit_events";

    public async Task<long> SizeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(HeadSeq, cancellationToken: cancellationToken));
    }

    public async Task<TreeHead> HeadAsync(long size, CancellationToken cancellationToken = default)
    {
        var leaves = await LeavesAsync(size, cancellationToken);
        return new TreeHead(size, MerkleTree.Root(leaves));
    }

    public async Task<InclusionProof> InclusionProofAsync(long seq, long size, CancellationToken cancellationToken = default)
    {
        if (seq < 1 || seq > size)
            throw new RuleViolation($"Event {seq} is not in a tree of size {size}: seq runs from 1 to the size.");
        var leaves = await LeavesAsync(size, cancellationToken);
        var index = (int)(seq - 1);
        return new InclusionProof(seq, index, leaves[index], new TreeHead(size, MerkleTree.Root(leaves)), MerkleTree.InclusionProof(leaves, index));
    }

    public async Task<ConsistencyProof> ConsistencyProofAsync(long oldSize, long newSize, CancellationToken cancellationToken = default)
    {
        if (oldSize < 0 || oldSize > newSize)
            throw new RuleViolation($"The old size {oldSize} must be between 0 and the new size {newSize}.");
        var leaves = await LeavesAsync(newSize, cancellationToken);
        var old = leaves.Take((int)oldSize).ToList();
        return new ConsistencyProof(new TreeHead(oldSize, MerkleTree.Root(old)), new TreeHead(newSize, MerkleTree.Root(leaves)),
            MerkleTree.ConsistencyProof(leaves, (int)oldSize));
    }

    /// <summary>
    /// The roots at several sizes in one pass over the first max(sizes) event hashes, in O(log n) memory
    /// (<see cref="MerkleFrontier"/>). Throws <see cref="NotFoundProblem"/> when the log is shorter.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, byte[]>> RootsAsync(IReadOnlyCollection<long> sizes, CancellationToken cancellationToken = default)
    {
        var wanted = sizes.ToHashSet();
        var max = wanted.Count == 0 ? 0 : wanted.Max();
        var roots = new Dictionary<long, byte[]>();
        var frontier = new MerkleFrontier();
        if (wanted.Contains(0))
            roots[0] = frontier.Root();
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(HashesUpTo, new { Size = max }, cancellationToken: cancellationToken));
        while (frontier.Size < max && await reader.ReadAsync(cancellationToken))
        {
            frontier.Append(Convert.FromHexString(reader.GetString(0)));
            if (wanted.Contains(frontier.Size))
                roots[frontier.Size] = frontier.Root();
        }
        if (frontier.Size != max)
            throw new NotFoundProblem($"The log has {frontier.Size} events, fewer than the tree size {max}.");
        return roots;
    }

    /// <summary>Inclusion proofs of several events in the tree of <paramref name="size"/>, from one read of its leaves.</summary>
    public async Task<IReadOnlyList<InclusionProof>> InclusionProofsAsync(IReadOnlyList<long> seqs, long size, CancellationToken cancellationToken = default)
    {
        foreach (var seq in seqs)
        {
            if (seq < 1 || seq > size)
                throw new RuleViolation($"Event {seq} is not in a tree of size {size}: seq runs from 1 to the size.");
        }
        var leaves = await LeavesAsync(size, cancellationToken);
        var levels = MerkleTree.Levels(leaves);
        var head = new TreeHead(size, levels[^1].Length == 0 ? MerkleTree.EmptyRoot() : levels[^1][0]);
        return seqs.Select(seq => new InclusionProof(seq, seq - 1, leaves[(int)(seq - 1)], head, MerkleTree.InclusionProof(levels, (int)(seq - 1)))).ToList();
    }

    private async Task<IReadOnlyList<byte[]>> LeavesAsync(long size, CancellationToken cancellationToken)
    {
        if (size < 0 || size > int.MaxValue)
            throw new RuleViolation($"A tree size is between 0 and {int.MaxValue}; {size} is not.");
        await using var connection = await connections.OpenAsync(cancellationToken);
        var hashes = await connection.QueryAsync<string>(new CommandDefinition(HashesUpTo, new { Size = size }, cancellationToken: cancellationToken));
        var leaves = hashes.Select(Convert.FromHexString).ToList();
        // seq is a positive primary key, so size rows at or below size means seq 1 … size, all there.
        if (leaves.Count != size)
            throw new NotFoundProblem($"The log has {leaves.Count} events, fewer than the tree size {size}.");
        return leaves;
    }
}
