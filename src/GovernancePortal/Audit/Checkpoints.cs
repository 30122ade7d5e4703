using System.Globalization;
using System.Text;
using Dapper;
using GovernancePortal.Crypto;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>
/// A signed tree head of the audit log: the Merkle root (<see cref="MerkleTree"/>) of its first
/// <see cref="TreeSize"/> events, the time it was signed, and the signature by key <see cref="KeyId"/>
/// over <see cref="Body"/>. The text format is the C2SP tlog-checkpoint shape (docs/audit-log.md, "Checkpoints").
/// </summary>
public sealed record Checkpoint(long Id, string Origin, long TreeSize, string RootHash, DateTimeOffset Time, string KeyId, byte[] Signature)
{
    /// <summary>The signature line's first character and a space (U+2014 EM DASH, as in C2SP signed notes).</summary>
    public const string SignatureLinePrefix = "\u2014 ";

    public const string TimeLinePrefix = "time ";

    /// <summary>The exact text signed, UTF-8: origin, tree size, base64 root and <c>time …</c> lines, each ending in a line feed.</summary>
    public string Body =>
        $"{Origin}\n{TreeSize.ToString(CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(Convert.FromHexString(RootHash))}\n" +
        $"{TimeLinePrefix}{Time.UtcDateTime.ToString(AuditChain.TimeFormat, CultureInfo.InvariantCulture)}\n";

    /// <summary>What is published: <see cref="Body"/>, a blank line, and the signature line <c>— &lt;origin&gt; base64(key id bytes ‖ DER signature)</c>.</summary>
    public string Note => $"{Body}\n{SignatureLinePrefix}{Origin} {Convert.ToBase64String([.. Convert.FromHexString(KeyId), .. Signature])}\n";

    public byte[] Root => Convert.FromHexString(RootHash);

    /// <summary>
    /// Reads a checkpoint note (<see cref="Note"/>, CRLF line ends accepted) for an offline verifier. Throws a
    /// <see cref="FormatException"/> naming what is wrong. The signature line used is the first one named by the origin.
    /// </summary>
    public static Checkpoint Parse(string note)
    {
        var text = note.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
            throw new FormatException("not a checkpoint: there is no blank line between its text and its signature");
        var lines = text[..split].Split('\n');
        if (lines.Length != 4)
            throw new FormatException($"not a checkpoint: its text has {lines.Length} lines, and this portal's checkpoints have 4 (origin, tree size, root, time)");
        var origin = lines[0];
        if (!AuditOptions.IsValidOrigin(origin))
            throw new FormatException("not a checkpoint: the first line is not an origin (one word of printable ASCII)");
        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size.ToString(CultureInfo.InvariantCulture) != lines[1])
            throw new FormatException($"not a checkpoint: the second line '{Shorten(lines[1])}' is not a tree size in decimal");
        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            root = [];
        }
        if (root.Length != MerkleTree.HashSize || Convert.ToBase64String(root) != lines[2])
            throw new FormatException("not a checkpoint: the third line is not a root hash of 32 bytes in base64");
        if (!lines[3].StartsWith(TimeLinePrefix, StringComparison.Ordinal)
            || !DateTime.TryParseExact(lines[3][TimeLinePrefix.Length..], AuditChain.TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
            throw new FormatException("not a checkpoint: the fourth line is not 'time ' and a UTC time such as 2026-12-01T10:00:00.0000000Z");

        foreach (var line in text[(split + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith(SignatureLinePrefix + origin + " ", StringComparison.Ordinal))
                continue;
            byte[] signed;
            try
            {
                signed = Convert.FromBase64String(line[(SignatureLinePrefix.Length + origin.Length + 1)..]);
            }
            catch (FormatException)
            {
                throw new FormatException("not a checkpoint: its signature line is not base64");
            }
            if (signed.Length <= KeyIdBytes)
                throw new FormatException("not a checkpoint: its signature line is too short to hold a key id and a signature");
            var checkpoint = new Checkpoint(0, origin, size, Convert.ToHexStringLower(root), new DateTimeOffset(time, TimeSpan.Zero),
                Convert.ToHexStringLower(signed.AsSpan(0, KeyIdBytes)), signed[KeyIdBytes..]);
            if (checkpoint.Body != text[..(split + 1)])
                throw new FormatException("not a checkpoint: its text is not written exactly as the format says");
            return checkpoint;
        }
        throw new FormatException($"not a checkpoint: no signature line '{SignatureLinePrefix}{origin} …' after the blank line");
    }

    /// <summary>Whether the signature is good by the key its key id names among <paramref name="publicKeysById"/> (from <see cref="SigningKeys.ParsePublicKeys"/>).</summary>
    public static bool Verify(Checkpoint checkpoint, IReadOnlyDictionary<string, string> publicKeysById) =>
        publicKeysById.TryGetValue(checkpoint.KeyId, out var pem) && SigningKeys.Verify(pem, Encoding.UTF8.GetBytes(checkpoint.Body), checkpoint.Signature);

    /// <summary>The key id's bytes at the start of the signature line's base64: 8 (docs/signing.md, "Key id").</summary>
    public const int KeyIdBytes = 8;

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>
/// The checkpoints kept in <c>audit_checkpoints</c>: at most one per tree size, each over committed events only,
/// signed with the current signing key. Two nodes signing at once are serialized by a lock and the unique size,
/// so the second gets the first's checkpoint. Checkpoints hold hashes only, so reading them is not audited.
/// </summary>
public sealed class CheckpointStore(ConnectionFactory connections, AuditTree tree, SigningKeys keys, AuditOptions options, TimeProvider time)
{
    private const string Columns = """
        SELECT id AS Id, origin AS Origin, tree_size AS TreeSize, root_hash AS RootHash, signed_at AS Time, key_id AS KeyId, signature AS Signature
        FROM audit_checkpoints
        """;

    private const string Insert = """
        INSERT INTO audit_checkpoints (origin, tree_size, root_hash, signed_at, key_id, signature)
        VALUES (@Origin, @TreeSize, @RootHash, @Time, @KeyId, @Signature) RETURNING id
        """;

    private const string LastRegularSize = "SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints WHERE tree_size % @Every = 0";

    /// <summary><see cref="Checkpoint.Parse"/>, for offline verifiers that start from the store's name.</summary>
    public static Checkpoint Parse(string note) => Checkpoint.Parse(note);

    /// <summary><see cref="Checkpoint.Verify"/>: the signature by the key its key id names among <paramref name="publicKeysById"/>.</summary>
    public static bool Verify(Checkpoint checkpoint, IReadOnlyDictionary<string, string> publicKeysById) => Checkpoint.Verify(checkpoint, publicKeysById);

    public Task<Checkpoint?> LatestAsync(CancellationToken cancellationToken = default) =>
        SingleAsync($"{Columns} ORDER BY tree_size DESC LIMIT 1", null, cancellationToken);

    /// <summary>The earliest checkpoint whose tree holds event <paramref name="seq"/> (tree size ≥ seq).</summary>
    public Task<Checkpoint?> CoveringAsync(long seq, CancellationToken cancellationToken = default) =>
        SingleAsync($"{Columns} WHERE tree_size >= @Seq ORDER BY tree_size LIMIT 1", new { Seq = seq }, cancellationToken);

    public Task<Checkpoint?> BySizeAsync(long treeSize, CancellationToken cancellationToken = default) =>
        SingleAsync($"{Columns} WHERE tree_size = @TreeSize", new { TreeSize = treeSize }, cancellationToken);

    /// <summary>Checkpoints newest (largest) first, those below <paramref name="beforeSize"/> when given: a page of at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<Checkpoint>> ListAsync(long? beforeSize, int limit, CancellationToken cancellationToken = default)
    {
        var sql = beforeSize is null
            ? $"{Columns} ORDER BY tree_size DESC LIMIT @Limit"
            : $"{Columns} WHERE tree_size < @Before ORDER BY tree_size DESC LIMIT @Limit";
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql, new { Before = beforeSize ?? 0, Limit = limit }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToCheckpoint()).ToList();
    }

    /// <summary>Every checkpoint, smallest first (the verification job reads them all; a few bytes each).</summary>
    public async Task<IReadOnlyList<Checkpoint>> AllAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition($"{Columns} ORDER BY tree_size", cancellationToken: cancellationToken));
        return rows.Select(row => row.ToCheckpoint()).ToList();
    }

    /// <summary>A checkpoint of the log's committed head; the existing one when the head already has one.</summary>
    public async Task<Checkpoint> SignNowAsync(CancellationToken cancellationToken = default) =>
        await SignAsync(await tree.SizeAsync(cancellationToken), cancellationToken);

    /// <summary>A checkpoint of the first <paramref name="treeSize"/> events (all committed); the existing one when there is one.</summary>
    public async Task<Checkpoint> SignAsync(long treeSize, CancellationToken cancellationToken = default)
    {
        if (await BySizeAsync(treeSize, cancellationToken) is { } existing)
            return existing;
        var roots = await tree.RootsAsync([treeSize], cancellationToken);
        return await StoreAsync(treeSize, roots[treeSize], cancellationToken);
    }

    /// <summary>
    /// Signs each multiple of <see cref="AuditOptions.CheckpointEvery"/> that the committed log has reached since the
    /// last one, computing all their roots in one pass over the events. It first waits for the chain lock, so an
    /// append that asked for it from inside its own transaction has committed (or rolled back) before the head is read.
    /// </summary>
    public async Task<IReadOnlyList<Checkpoint>> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        await using (var wait = await connections.BeginWriteAsync(cancellationToken))
            await wait.Dialect.LockAsync(wait.Connection, wait.Transaction, LockName.AuditChain);

        long last;
        await using (var connection = await connections.OpenAsync(cancellationToken))
            last = await connection.ExecuteScalarAsync<long>(new CommandDefinition(LastRegularSize, new { Every = options.CheckpointEvery }, cancellationToken: cancellationToken));
        var head = await tree.SizeAsync(cancellationToken);
        var sizes = new List<long>();
        for (var size = last + options.CheckpointEvery; size <= head; size += options.CheckpointEvery)
            sizes.Add(size);
        if (sizes.Count == 0)
            return [];
        var roots = await tree.RootsAsync(sizes, cancellationToken);
        var signed = new List<Checkpoint>();
        foreach (var size in sizes)
            signed.Add(await StoreAsync(size, roots[size], cancellationToken));
        return signed;
    }

    private async Task<Checkpoint> StoreAsync(long treeSize, byte[] root, CancellationToken cancellationToken)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.AuditCheckpoints);
        // Checked again under the lock: another node may have signed this size meanwhile.
        if (await scope.QuerySingleOrDefaultAsync<Row>($"{Columns} WHERE tree_size = @TreeSize", new { TreeSize = treeSize }) is { } signedMeanwhile)
            return signedMeanwhile.ToCheckpoint();
        var unsigned = new Checkpoint(0, options.Origin, treeSize, Convert.ToHexStringLower(root), StoredTime.Normalize(time.GetUtcNow()), "", []);
        var signature = await keys.SignAsync(scope, Encoding.UTF8.GetBytes(unsigned.Body));
        var checkpoint = unsigned with { KeyId = signature.KeyId, Signature = signature.Der };
        var id = await scope.ExecuteScalarAsync<long>(Insert, checkpoint);
        await scope.CommitAsync();
        return checkpoint with { Id = id };
    }

    private async Task<Checkpoint?> SingleAsync(string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return row?.ToCheckpoint();
    }

    private sealed record Row
    {
        public long Id { get; init; }
        public string Origin { get; init; } = "";
        public long TreeSize { get; init; }
        public string RootHash { get; init; } = "";
        public DateTimeOffset Time { get; init; }
        public string KeyId { get; init; } = "";
        public byte[] Signature { get; init; } = [];

        public Checkpoint ToCheckpoint() => new(Id, Origin, TreeSize, RootHash, Time, KeyId, Signature);
    }
}
