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
/// The audit log as a Merkle tree (<see cref="MerkleTree"/>): roots and proofs for any size up to the head.
/// Each question streams the first <c>size</c> event hashes in one ordered query through a
/// <see cref="MerkleFrontier"/>, which keeps O(log n) hashes plus the ones its proofs need: memory stays small
/// however long the log, and many proofs in one tree (an employee's export) cost one pass. A proof carries only
/// hashes, never an event's fields, so reading one is not itself audited.
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

    public async Task<TreeHead> HeadAsync(long size, CancellationToken cancellationToken = default) =>
        new(size, (await RootsAsync([size], cancellationToken))[size]);

    public async Task<InclusionProof> InclusionProofAsync(long seq, long size, CancellationToken cancellationToken = default) =>
        (await InclusionProofsAsync([seq], size, cancellationToken)).Single();

    /// <summary>Inclusion proofs of several events in the tree of <paramref name="size"/>, from one pass over its leaves.</summary>
    public async Task<IReadOnlyList<InclusionProof>> InclusionProofsAsync(IReadOnlyList<long> seqs, long size, CancellationToken cancellationToken = default)
    {
        foreach (var seq in seqs)
        {
            if (seq < 1 || seq > size)
                throw new RuleViolation($"Event {seq} is not in a tree of size {size}: seq runs from 1 to the size.");
        }
        var ranges = seqs.Distinct().ToDictionary(seq => seq, seq => MerkleTree.InclusionRanges(seq - 1, size));
        var leaves = new Dictionary<long, byte[]>();
        var frontier = await StreamAsync(size, ranges.Values.SelectMany(r => r), (seq, leaf) =>
        {
            if (ranges.ContainsKey(seq))
                leaves[seq] = leaf;
        }, cancellationToken);
        var head = new TreeHead(size, frontier.Root());
        return seqs.Select(seq => new InclusionProof(seq, seq - 1, leaves[seq], head, ranges[seq].Select(frontier.Hash).ToList())).ToList();
    }

    public async Task<ConsistencyProof> ConsistencyProofAsync(long oldSize, long newSize, CancellationToken cancellationToken = default)
    {
        if (oldSize < 0 || oldSize > newSize)
            throw new RuleViolation($"The old size {oldSize} must be between 0 and the new size {newSize}.");
        var ranges = MerkleTree.ConsistencyRanges(oldSize, newSize);
        var oldRoot = MerkleTree.EmptyRoot();
        MerkleFrontier? growing = null;
        var frontier = await StreamAsync(newSize, ranges, (seq, _) =>
        {
            if (seq == oldSize)
                oldRoot = growing!.Root();
        }, cancellationToken, started => growing = started);
        return new ConsistencyProof(new TreeHead(oldSize, oldRoot), new TreeHead(newSize, frontier.Root()), ranges.Select(frontier.Hash).ToList());
    }

    /// <summary>The roots at several sizes in one pass over the first max(sizes) event hashes.</summary>
    public async Task<IReadOnlyDictionary<long, byte[]>> RootsAsync(IReadOnlyCollection<long> sizes, CancellationToken cancellationToken = default)
    {
        var wanted = sizes.ToHashSet();
        var roots = new Dictionary<long, byte[]>();
        if (wanted.Contains(0))
            roots[0] = MerkleTree.EmptyRoot();
        MerkleFrontier? growing = null;
        await StreamAsync(wanted.Count == 0 ? 0 : wanted.Max(), [], (seq, _) =>
        {
            if (wanted.Contains(seq))
                roots[seq] = growing!.Root();
        }, cancellationToken, started => growing = started);
        return roots;
    }

    /// <summary>
    /// Feeds the first <paramref name="size"/> event hashes, in seq order, to a frontier keeping <paramref name="ranges"/>;
    /// <paramref name="appended"/> sees each seq once it is in. Throws <see cref="NotFoundProblem"/> when the log is shorter.
    /// </summary>
    private async Task<MerkleFrontier> StreamAsync(long size, IEnumerable<(long Start, long End)> ranges, Action<long, byte[]> appended,
        CancellationToken cancellationToken, Action<MerkleFrontier>? started = null)
    {
        if (size < 0)
            throw new RuleViolation($"A tree size is 0 or more; {size} is not.");
        var frontier = new MerkleFrontier(ranges);
        started?.Invoke(frontier);
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(HashesUpTo, new { Size = size }, cancellationToken: cancellationToken));
        // seq is a positive primary key, so size rows at or below size means seq 1 … size, all there.
        while (frontier.Size < size && await reader.ReadAsync(cancellationToken))
        {
            var leaf = Convert.FromHexString(reader.GetString(0));
            frontier.Append(leaf);
            appended(frontier.Size, leaf);
        }
        if (frontier.Size != size)
            throw new NotFoundProblem($"The log has {frontier.Size} events, fewer than the tree size {size}.");
        return frontier;
    }
}
