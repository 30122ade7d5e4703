using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;

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
    private const string VerifyConsistencyUsage = "gp: usage: gp audit verify-consistency --old-size <m> --old-root <hex> --new-size <n> --new-root <hex> --proof <file>";

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

    public static async Task<int> VerifyProofAsync(Dictionary<string, string>? values, TextWriter output, TextWriter error)
    {
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
        if (values is null || !Number(values, "--old-size", out var oldSize) || !Hash(values, "--old-root", out var oldRoot)
            || !Number(values, "--new-size", out var newSize) || !Hash(values, "--new-root", out var newRoot) || !values.TryGetValue("--proof", out var file)
            || !OnlyKnown(values, "--old-size", "--old-root", "--new-size", "--new-root", "--proof"))
            return await Usage(error, VerifyConsistencyUsage);
        var (path, problem) = await ReadProofAsync(file);
        if (problem is not null)
            return await Fail(error, problem, exitCode: path is null ? 2 : 1);
        return await Report(MerkleTree.VerifyConsistency(oldSize, oldRoot, newSize, newRoot, path!), output, error);
    }

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
        AuditVerification result;
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
