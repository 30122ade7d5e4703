using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;

namespace GovernancePortal.Cli;

/// <summary>
/// <c>gp audit …</c>: proofs read from the database for an auditor, and their offline verification,
/// which reads nothing but its arguments and the proof file (docs/audit-log.md, "Merkle tree and proofs").
/// </summary>
internal static class AuditCommands
{
    private const string ProofUsage = "gp: usage: gp audit proof --seq <m> --size <n> [--out <file>]";
    private const string ConsistencyUsage = "gp: usage: gp audit consistency --old-size <m> --new-size <n> [--out <file>]";
    private const string VerifyProofUsage = "gp: usage: gp audit verify-proof --leaf <hex event hash> --index <m> --size <n> --root <hex> --proof <file>";
    private const string VerifyUsage = "gp: usage: gp audit verify <export.csv|export.jsonl> --manifest <file> --public-key <pem file>";
    private const string VerifyConsistencyUsage = "gp: usage: gp audit verify-consistency --old-size <m> --old-root <hex> --new-size <n> --new-root <hex> --proof <file>"
        + " | --old <checkpoint> --new <checkpoint> --proof <file> --public-key <pem>";
    private const string VerifyProofCheckpointUsage = "gp: usage: gp audit verify-proof --leaf <hex event hash> --index <m> --checkpoint <file> --public-key <pem> --proof <file>";
    private const string CheckpointUsage = "gp: usage: gp audit checkpoint [--out <file>]";
    private const string VerifyCheckpointUsage = "gp: usage: gp audit verify-checkpoint <checkpoint file> --public-key <pem>";

    public static async Task<int> ProofAsync(AuditTree tree, Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
        if (values is null || !Number(values, "--seq", out var seq) || !Number(values, "--size", out var size) || !OnlyKnown(values, "--seq", "--size", "--out"))
            return await Usage(error, ProofUsage);
        try
        {
            var proof = await tree.InclusionProofAsync(seq, size);
            await output.WriteLineAsync($"seq {proof.Seq}\nindex {proof.Index}\nsize {proof.Head.Size}\nleaf {Hex(proof.Leaf)}\nroot {Hex(proof.Head.Root)}");
            return await WriteProofAsync(proof.Path, values.GetValueOrDefault("--out"), output);
        }
        catch (Exception exception) when (exception is RuleViolation or NotFoundProblem or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"gp: {exception.Message}");
            return 2;
        }
    }

    public static async Task<int> ConsistencyAsync(AuditTree tree, Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
        if (values is null || !Number(values, "--old-size", out var oldSize) || !Number(values, "--new-size", out var newSize)
            || !OnlyKnown(values, "--old-size", "--new-size", "--out"))
            return await Usage(error, ConsistencyUsage);
        try
        {
            var proof = await tree.ConsistencyProofAsync(oldSize, newSize);
            await output.WriteLineAsync($"old-size {proof.OldHead.Size}\nold-root {Hex(proof.OldHead.Root)}\nnew-size {proof.NewHead.Size}\nnew-root {Hex(proof.NewHead.Root)}");
            return await WriteProofAsync(proof.Path, values.GetValueOrDefault("--out"), output);
        }
        catch (Exception exception) when (exception is RuleViolation or NotFoundProblem or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"gp: {exception.Message}");
            return 2;
        }
    }

    /// <summary><c>gp audit checkpoint</c>: the checkpoint of the log's head (signed now unless it has one), as its note.</summary>
    public static async Task<int> CheckpointAsync(CheckpointStore store, Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
        if (values is null || !OnlyKnown(values, "--out"))
            return await Usage(error, CheckpointUsage);
        var checkpoint = await store.SignNowAsync();
        await output.WriteAsync(checkpoint.Note);
        if (values.TryGetValue("--out", out var file))
        {
            try
            {
                await File.WriteAllTextAsync(file, checkpoint.Note);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                return await Fail(error, $"cannot write {file}: {exception.Message}", exitCode: 2);
            }
        }
        return 0;
    }

    /// <summary><c>gp audit verify-checkpoint &lt;file&gt; --public-key &lt;pem&gt;</c>: offline, the note's form and its signature.</summary>
    public static async Task<int> VerifyCheckpointAsync(string[] args, TextWriter output, TextWriter error)
    {
        var values = args.Length >= 1 && !args[0].StartsWith("--", StringComparison.Ordinal) ? GpCommand.ParseOptions(args[1..]) : null;
        if (values is null || !values.TryGetValue("--public-key", out var keyFile) || !OnlyKnown(values, "--public-key"))
            return await Usage(error, VerifyCheckpointUsage);
        var (checkpoint, problem, exitCode) = await ReadSignedCheckpointAsync(args[0], keyFile, "the checkpoint");
        if (checkpoint is null)
            return await Fail(error, problem!, exitCode);
        await output.WriteLineAsync($"ok: {Describe(checkpoint)}");
        return 0;
    }

    public static async Task<int> VerifyProofAsync(Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
        if (values is not null && values.ContainsKey("--checkpoint"))
            return await VerifyProofInCheckpointAsync(values, output, error);
        if (values is null || !Hash(values, "--leaf", out var leaf) || !Number(values, "--index", out var index) || !Number(values, "--size", out var size)
            || !Hash(values, "--root", out var root) || !values.TryGetValue("--proof", out var file) || !OnlyKnown(values, "--leaf", "--index", "--size", "--root", "--proof"))
            return await Usage(error, VerifyProofUsage);
        var (path, problem) = await ReadProofAsync(file);
        if (problem is not null)
            return await Fail(error, problem, exitCode: path is null ? 2 : 1);
        return await Report(MerkleTree.VerifyInclusion(leaf, index, size, path!, root), output, error);
    }

    public static async Task<int> VerifyConsistencyAsync(Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
        if (values is not null && (values.ContainsKey("--old") || values.ContainsKey("--new")))
            return await VerifyConsistencyOfCheckpointsAsync(values, output, error);
        if (values is null || !Number(values, "--old-size", out var oldSize) || !Hash(values, "--old-root", out var oldRoot)
            || !Number(values, "--new-size", out var newSize) || !Hash(values, "--new-root", out var newRoot) || !values.TryGetValue("--proof", out var file)
            || !OnlyKnown(values, "--old-size", "--old-root", "--new-size", "--new-root", "--proof"))
            return await Usage(error, VerifyConsistencyUsage);
        var (path, problem) = await ReadProofAsync(file);
        if (problem is not null)
            return await Fail(error, problem, exitCode: path is null ? 2 : 1);
        return await Report(MerkleTree.VerifyConsistency(oldSize, oldRoot, newSize, newRoot, path!), output, error);
    }

    /// <summary>An inclusion proof against a signed checkpoint: its signature first, then the proof against its size and root.</summary>
    private static async Task<int> VerifyProofInCheckpointAsync(Dictionary<string, string> values, TextWriter output, TextWriter error)
    {
        if (!Hash(values, "--leaf", out var leaf) || !Number(values, "--index", out var index) || !values.TryGetValue("--checkpoint", out var checkpointFile)
            || !values.TryGetValue("--public-key", out var keyFile) || !values.TryGetValue("--proof", out var file)
            || !OnlyKnown(values, "--leaf", "--index", "--checkpoint", "--public-key", "--proof"))
            return await Usage(error, VerifyProofCheckpointUsage);
        var (checkpoint, problem, exitCode) = await ReadSignedCheckpointAsync(checkpointFile, keyFile, "the checkpoint");
        if (checkpoint is null)
            return await Fail(error, problem!, exitCode);
        var (path, proofProblem) = await ReadProofAsync(file);
        if (proofProblem is not null)
            return await Fail(error, proofProblem, exitCode: path is null ? 2 : 1);
        var check = MerkleTree.VerifyInclusion(leaf, index, checkpoint.TreeSize, path!, checkpoint.Root);
        if (!check.Verified)
            return await Fail(error, $"the proof does not verify: {check.Failure}", exitCode: 1);
        await output.WriteLineAsync($"ok: event {index + 1} is in the signed {Describe(checkpoint)}");
        return 0;
    }

    /// <summary>Two signed checkpoints of one log, and the proof that the newer extends the older: nothing removed or rewritten.</summary>
    private static async Task<int> VerifyConsistencyOfCheckpointsAsync(Dictionary<string, string> values, TextWriter output, TextWriter error)
    {
        if (!values.TryGetValue("--old", out var oldFile) || !values.TryGetValue("--new", out var newFile) || !values.TryGetValue("--proof", out var file)
            || !values.TryGetValue("--public-key", out var keyFile) || !OnlyKnown(values, "--old", "--new", "--proof", "--public-key"))
            return await Usage(error, VerifyConsistencyUsage);
        var (old, problem, exitCode) = await ReadSignedCheckpointAsync(oldFile, keyFile, "the old checkpoint");
        if (old is null)
            return await Fail(error, problem!, exitCode);
        (var current, problem, exitCode) = await ReadSignedCheckpointAsync(newFile, keyFile, "the new checkpoint");
        if (current is null)
            return await Fail(error, problem!, exitCode);
        if (old.Origin != current.Origin)
            return await Fail(error, $"the checkpoints are of two logs: {old.Origin} and {current.Origin}", exitCode: 1);
        if (old.TreeSize > current.TreeSize)
            return await Fail(error, $"the old checkpoint (size {old.TreeSize}) is larger than the new one (size {current.TreeSize}): swap --old and --new", exitCode: 1);
        var (path, proofProblem) = await ReadProofAsync(file);
        if (proofProblem is not null)
            return await Fail(error, proofProblem, exitCode: path is null ? 2 : 1);
        var check = MerkleTree.VerifyConsistency(old.TreeSize, old.Root, current.TreeSize, current.Root, path!);
        if (!check.Verified)
            return await Fail(error, $"the new checkpoint does not extend the old one: {check.Failure}", exitCode: 1);
        await output.WriteLineAsync($"ok: the checkpoint of size {current.TreeSize} extends the one of size {old.TreeSize} ({old.Origin})");
        return 0;
    }

    /// <summary>
    /// A checkpoint file whose signature verifies by one of the keys in the PEM file. Exit code 2 for a file that
    /// cannot be read or holds no key; 1 for a checkpoint that is malformed, by an unknown key, or not validly signed.
    /// </summary>
    private static async Task<(Checkpoint? Checkpoint, string? Problem, int ExitCode)> ReadSignedCheckpointAsync(string file, string keyFile, string what)
    {
        string note, pem;
        try
        {
            note = await File.ReadAllTextAsync(file);
            pem = await File.ReadAllTextAsync(keyFile);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read a file: {exception.Message}", 2);
        }
        var keys = SigningKeys.ParsePublicKeys(pem);
        if (keys.Count == 0)
            return (null, $"{keyFile} holds no ECDSA P-256 public key (PEM \"PUBLIC KEY\")", 2);
        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Parse(note);
        }
        catch (FormatException exception)
        {
            return (null, $"{what} {file} is {exception.Message}", 1);
        }
        if (!keys.ContainsKey(checkpoint.KeyId))
            return (null, $"{what} is signed by key {checkpoint.KeyId}, which is not in {keyFile}", 1);
        if (!Checkpoint.Verify(checkpoint, keys))
            return (null, $"{what}'s signature does not verify with key {checkpoint.KeyId}: its text was changed or the portal did not sign it", 1);
        return (checkpoint, null, 0);
    }

    private static string Describe(Checkpoint checkpoint) =>
        $"checkpoint of {checkpoint.Origin}, size {checkpoint.TreeSize}, root {checkpoint.RootHash}, signed {checkpoint.Time.UtcDateTime.ToString(AuditChain.TimeFormat, CultureInfo.InvariantCulture)} by key {checkpoint.KeyId}";

    /// <summary>
    /// Offline: checks an export against its manifest and the portal's public keys (docs/audit-log.md,
    /// "Verifying an export"). Exit 0 with a one-line summary; 1 with one line naming the first bad seq;
    /// 2 for arguments or files that cannot be read.
    /// </summary>
    public static async Task<int> VerifyExportAsync(string[] args, TextWriter output, TextWriter error)
    {
        var values = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? GpCommand.ParseOptions(args[1..]) : null;
        if (values is null || !values.TryGetValue("--manifest", out var manifestFile) || !values.TryGetValue("--public-key", out var keyFile)
            || !OnlyKnown(values, "--manifest", "--public-key"))
            return await Usage(error, VerifyUsage);
        string manifestText, keyText;
        try
        {
            manifestText = await File.ReadAllTextAsync(manifestFile);
            keyText = await File.ReadAllTextAsync(keyFile);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return await Fail(error, $"cannot read {exception.Message}", exitCode: 2);
        }
        var keys = Crypto.SigningKeys.ParsePublicKeys(keyText);
        if (keys.Count == 0)
            return await Fail(error, $"{keyFile} holds no ECDSA P-256 public key (a PEM \"PUBLIC KEY\" block)", exitCode: 2);
        AuditExportManifest manifest;
        try
        {
            manifest = AuditExportManifest.Parse(manifestText);
        }
        catch (FormatException exception)
        {
            return await Fail(error, $"the export does not verify: {exception.Message}", exitCode: 1);
        }
        ExportVerification result;
        try
        {
            await using var export = new FileStream(args[0], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
            result = await AuditExportVerifier.VerifyAsync(export, manifest, keys);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return await Fail(error, $"cannot read the export {args[0]}: {exception.Message}", exitCode: 2);
        }
        if (!result.Verified)
            return await Fail(error, $"the export does not verify: {result.Message}", exitCode: 1);
        await output.WriteLineAsync(result.Message);
        return 0;
    }

    /// <summary>
    /// The proof file: one hash a line, 64 hex digits, in proof order; line feeds (CRLF accepted), the
    /// last one optional; an empty proof is an empty file. Anything else is a proof that does not verify;
    /// a file that cannot be read (no path) is a usage problem instead.
    /// </summary>
    private static async Task<(IReadOnlyList<byte[]>? Path, string? Problem)> ReadProofAsync(string file)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read the proof file {file}: {exception.Message}");
        }
        var lines = text.Split('\n');
        if (lines[^1].Length == 0)
            lines = lines[..^1];
        var path = new List<byte[]>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (!TryHash(line, out var hash))
                return (path, $"the proof does not verify: line {i + 1} of {file} is not a hash of 64 hex digits");
            path.Add(hash);
        }
        return (path, null);
    }

    private static async Task<int> WriteProofAsync(IReadOnlyList<byte[]> path, string? file, TextWriter output)
    {
        foreach (var hash in path)
            await output.WriteLineAsync($"proof {Hex(hash)}");
        if (file is not null)
            await File.WriteAllTextAsync(file, string.Concat(path.Select(hash => Hex(hash) + "\n")));
        return 0;
    }

    private static async Task<int> Report(ProofCheck check, TextWriter output, TextWriter error)
    {
        if (!check.Verified)
            return await Fail(error, $"the proof does not verify: {check.Failure}", exitCode: 1);
        await output.WriteLineAsync("ok");
        return 0;
    }

    private static async Task<int> Fail(TextWriter error, string problem, int exitCode)
    {
        await error.WriteLineAsync($"gp: {problem}");
        return exitCode;
    }

    private static async Task<int> Usage(TextWriter error, string usage)
    {
        await error.WriteLineAsync(usage);
        return 2;
    }

    private static bool Number(Dictionary<string, string> values, string name, out long value)
    {
        value = 0;
        return values.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool Hash(Dictionary<string, string> values, string name, out byte[] hash)
    {
        hash = [];
        return values.TryGetValue(name, out var text) && TryHash(text, out hash);
    }

    private static bool TryHash(string text, out byte[] hash)
    {
        hash = [];
        if (text.Length != 2 * MerkleTree.HashSize || !text.All(char.IsAsciiHexDigit))
            return false;
        hash = Convert.FromHexString(text);
        return true;
    }

    private static bool OnlyKnown(Dictionary<string, string> values, params string[] names) => values.Keys.All(names.Contains);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
