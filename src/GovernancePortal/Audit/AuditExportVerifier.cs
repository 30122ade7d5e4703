using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GovernancePortal.Crypto;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>The outcome of checking an export offline: the one-line summary, or the first failure and the seq it concerns.</summary>
public sealed record ExportVerification(bool Verified, string Message, long? BadSeq = null)
{
    public static ExportVerification Fail(string message, long? badSeq = null) => new(false, message, badSeq);
}

/// <summary>
/// Checks an export against its manifest with nothing but the two files and the portal's public keys
/// (docs/audit-log.md, "Verifying an export"): the manifest's signature, then every event in the order it
/// comes (its fields, its hash, its link to the one before, seq continuity), then the manifest's figures
/// (count, first and last hash, the export's size and SHA-256, the tree root for an export from seq 1).
/// Reads the export once, forward only, in constant memory.
/// </summary>
public static class AuditExportVerifier
{
    private const int Columns = 12;

    public static async Task<ExportVerification> VerifyAsync(Stream export, AuditExportManifest manifest, IReadOnlyDictionary<string, string> publicKeys,
        CancellationToken cancellationToken = default)
    {
        if (CheckManifest(manifest, publicKeys) is { } refused)
            return refused;
        var format = manifest.Format == "csv" ? AuditExportFormat.Csv : AuditExportFormat.Jsonl;

        var hashed = new HashingReadStream(export);
        using var reader = new StreamReader(hashed, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        var rows = format == AuditExportFormat.Csv ? (IRowSource)new CsvRows(reader) : new JsonlRows(reader);
        var fields = new string?[Columns];
        var root = manifest.From == 1 ? new MerkleRootBuilder() : null;
        var leaf = new byte[MerkleTree.HashSize];
        long count = 0;
        var expected = manifest.From;
        var prevHash = manifest.PrevHash;
        string firstHash = "", lastHash = "";
        try
        {
            if (rows.Begin() is { } badStart)
                return ExportVerification.Fail(badStart, manifest.From);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var problem = await rows.NextAsync(fields);
                if (problem == IRowSource.End)
                    break;
                if (problem is not null)
                    return ExportVerification.Fail($"event {expected}: {problem}", expected);
                if (CheckEvent(fields, expected, prevHash) is { } bad)
                    return ExportVerification.Fail(bad, expected);
                if (count == 0)
                    firstHash = fields[11]!;
                lastHash = prevHash = fields[11]!;
                if (root is not null)
                {
                    Convert.FromHexString(lastHash, leaf, out _, out _);
                    root.Add(leaf);
                }
                count++;
                expected++;
            }
        }
        catch (DecoderFallbackException)
        {
            return ExportVerification.Fail($"event {expected}: the export is not valid UTF-8 there", expected);
        }

        var lastSeq = manifest.From + count - 1;
        if (count == 0)
            return ExportVerification.Fail($"the export holds no event; the signed manifest says seq {manifest.From}-{manifest.To}", manifest.From);
        if (lastSeq < manifest.To)
            return ExportVerification.Fail($"the export ends at seq {lastSeq}, but the signed manifest runs to seq {manifest.To}: seq {lastSeq + 1} onwards is missing (the tail was cut, or events were removed and the rest re-chained)", lastSeq + 1);
        if (lastSeq > manifest.To)
            return ExportVerification.Fail($"the export goes on past seq {manifest.To}, where the signed manifest ends", manifest.To + 1);
        if (firstHash != manifest.FirstHash)
            return ExportVerification.Fail($"event {manifest.From}: its hash is not the manifest's first hash", manifest.From);
        if (lastHash != manifest.LastHash)
            return ExportVerification.Fail($"event {manifest.To}: its hash is not the manifest's last hash (the events were re-chained)", manifest.To);
        if (hashed.Length != manifest.ExportBytes || hashed.Hash() != manifest.ExportSha256)
            return ExportVerification.Fail($"the export's bytes ({hashed.Length:N0}, SHA-256 {hashed.Hash()}) are not the ones the manifest signed ({manifest.ExportBytes:N0}, {manifest.ExportSha256}): something outside the events' fields was changed");
        if (root is not null && Convert.ToHexStringLower(root.Root()) != manifest.TreeRoot)
            return ExportVerification.Fail($"the Merkle root of seq 1-{manifest.To} is not the manifest's tree root");

        var covered = manifest.Checkpoint is { } c ? $"; in the signed checkpoint of size {c.TreeSize}" : "";
        var anchored = manifest.From == 1 ? "from the log's first event" : $"anchored by prevHash {manifest.PrevHash[..12]}…";
        var tree = root is not null ? "; tree root matches" : "";
        return new ExportVerification(true,
            $"ok: {count:N0} events, seq {manifest.From}-{manifest.To} ({manifest.Format}), every hash and link intact {anchored}; manifest signed by key {manifest.KeyId}{tree}{covered}");
    }

    /// <summary>The manifest alone: its figures must agree with each other, and its signature with one of the keys.</summary>
    private static ExportVerification? CheckManifest(AuditExportManifest m, IReadOnlyDictionary<string, string> publicKeys)
    {
        if (m.Format is not ("csv" or "jsonl"))
            return ExportVerification.Fail($"the manifest's format is \"{m.Format}\", not csv or jsonl");
        if (m.From < 1 || m.To < m.From || m.Count != m.To - m.From + 1 || m.TreeSize != m.To || m.ExportBytes < 0)
            return ExportVerification.Fail($"the manifest's figures disagree: from {m.From}, to {m.To}, count {m.Count}, tree size {m.TreeSize}");
        foreach (var (name, hash) in new[] { ("prevHash", m.PrevHash), ("firstHash", m.FirstHash), ("lastHash", m.LastHash), ("exportSha256", m.ExportSha256), ("treeRoot", m.TreeRoot) })
        {
            if (!IsHash(hash))
                return ExportVerification.Fail($"the manifest's {name} is not 64 lowercase hex digits");
        }
        if (m.From == 1 && m.PrevHash != AuditChain.GenesisHash)
            return ExportVerification.Fail("the manifest starts at seq 1 but its prevHash is not 64 zeros");
        if (m.Algorithm != SigningKeys.Algorithm)
            return ExportVerification.Fail($"the manifest's algorithm is \"{m.Algorithm}\", not {SigningKeys.Algorithm}");
        if (!publicKeys.TryGetValue(m.KeyId, out var pem))
            return ExportVerification.Fail($"the manifest is signed by key {m.KeyId}, which is not among the public keys given ({string.Join(", ", publicKeys.Keys)})");
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(m.Signature);
        }
        catch (FormatException)
        {
            return ExportVerification.Fail("the manifest's signature is not base64");
        }
        if (!SigningKeys.Verify(pem, m.SignedBytes(), signature))
            return ExportVerification.Fail($"the manifest's signature does not verify with key {m.KeyId}: the manifest was altered, or signed by another key");
        return m.Checkpoint is null ? null : CheckCheckpoint(m, m.Checkpoint, publicKeys);
    }

    /// <summary>
    /// The covering checkpoint: a note signed by one of the keys, of a tree at least as large as the export's last
    /// seq, whose root the last event's inclusion proof reaches. (The last hash itself is checked against the events.)
    /// </summary>
    private static ExportVerification? CheckCheckpoint(AuditExportManifest m, ManifestCheckpoint c, IReadOnlyDictionary<string, string> publicKeys)
    {
        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Parse(c.Note);
        }
        catch (FormatException exception)
        {
            return ExportVerification.Fail($"the manifest's checkpoint is not a checkpoint note: {exception.Message}");
        }
        if (!Checkpoint.Verify(checkpoint, publicKeys))
            return ExportVerification.Fail($"the checkpoint's signature (key {checkpoint.KeyId}) does not verify with the public keys given");
        if (checkpoint.TreeSize != c.TreeSize || checkpoint.RootHash != c.RootHash)
            return ExportVerification.Fail("the manifest's checkpoint size or root is not the signed note's");
        if (checkpoint.TreeSize < m.To)
            return ExportVerification.Fail($"the checkpoint (size {checkpoint.TreeSize}) does not cover the export's last event, seq {m.To}");
        if (checkpoint.TreeSize == m.To && checkpoint.RootHash != m.TreeRoot)
            return ExportVerification.Fail($"the checkpoint of size {m.To} has another root than the manifest's tree root");
        if (Included(m.LastHash, m.To, c.InclusionProof, checkpoint) is { } last)
            return ExportVerification.Fail($"event {m.To} (the manifest's last hash) is not in the signed checkpoint of size {checkpoint.TreeSize}: {last}", m.To);
        if (m.From == 1)
            return null;
        if (c.PrevInclusionProof is null)
            return ExportVerification.Fail($"the export starts at seq {m.From} but the manifest's checkpoint has no prevInclusionProof to anchor its prevHash", m.From);
        return Included(m.PrevHash, m.From - 1, c.PrevInclusionProof, checkpoint) is { } prev
            ? ExportVerification.Fail($"event {m.From - 1} (the manifest's prevHash) is not in the signed checkpoint of size {checkpoint.TreeSize}: {prev}", m.From)
            : null;
    }

    /// <summary>Null when the event of <paramref name="seq"/> with <paramref name="hash"/> is in the checkpoint's tree by the proof; else why not.</summary>
    private static string? Included(string hash, long seq, IReadOnlyList<string> hexProof, Checkpoint checkpoint)
    {
        var proof = new List<byte[]>();
        foreach (var node in hexProof)
        {
            if (!IsHash(node))
                return "its inclusion proof holds something other than 64 lowercase hex digits";
            proof.Add(Convert.FromHexString(node));
        }
        var included = MerkleTree.VerifyInclusion(Convert.FromHexString(hash), seq - 1, checkpoint.TreeSize, proof, checkpoint.Root);
        return included.Verified ? null : included.Failure;
    }

    /// <summary>One event's fields (in their written form): each well formed, seq the expected one, the link and the hash right.</summary>
    private static string? CheckEvent(string?[] f, long expected, string prevHash)
    {
        if (!IsNumber(f[0]) || !long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            return $"event {expected}: its seq \"{f[0]}\" is not a number without sign or leading zero";
        if (seq != expected)
            return $"seq {seq} stands where seq {expected} should: an event is missing, repeated or out of order";
        if (!IsTime(f[1]))
            return $"event {seq}: its occurredAt \"{f[1]}\" is not a UTC time as yyyy-MM-ddTHH:mm:ss.ffffff0Z";
        if (f[2] is null || f[3] is null || f[4] is null)
            return $"event {seq}: actor, actorRoles and action are never null";
        if (f[5] is not null && (!IsNumber(f[5]) || f[5] == "0"))
            return $"event {seq}: its subject \"{f[5]}\" is not a positive id";
        if (f[9] is not null && !IsNumber(f[9]))
            return $"event {seq}: its recordCount \"{f[9]}\" is not a number without sign or leading zero";
        if (!IsHash(f[10]) || !IsHash(f[11]))
            return $"event {seq}: prevHash and hash are 64 lowercase hex digits";
        if (f[10] != prevHash)
            return seq == 1
                ? "event 1: its prevHash is not 64 zeros"
                : $"event {seq}: its prevHash is not the hash of event {seq - 1} (the chain is broken there)";
        Span<byte> computed = stackalloc byte[32];
        Span<byte> stated = stackalloc byte[32];
        AuditChain.HashOfFields(f.AsSpan(0, 11), computed);
        Convert.FromHexString(f[11]!, stated, out _, out _);
        if (!computed.SequenceEqual(stated))
            return $"event {seq}: its fields do not hash to its hash (the event was altered)";
        return null;
    }

    private static bool IsNumber(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 19 || (text[0] == '0' && text.Length > 1))
            return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }

    private static bool IsHash(string? text)
    {
        if (text is null || text.Length != 64)
            return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
                return false;
        }
        return true;
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss.fffffffZ with the seventh digit 0, and a real date and time; checked by hand, as it is checked for every event.</summary>
    private static bool IsTime(string? text)
    {
        if (text is not { Length: 28 } || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != '.'
            || text[26] != '0' || text[27] != 'Z')
            return false;
        foreach (var i in TimeDigits)
        {
            if (!char.IsAsciiDigit(text[i]))
                return false;
        }
        int Number(int at, int length)
        {
            var value = 0;
            for (var i = at; i < at + length; i++)
                value = value * 10 + (text[i] - '0');
            return value;
        }
        var (year, month, day) = (Number(0, 4), Number(5, 2), Number(8, 2));
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            && Number(11, 2) <= 23 && Number(14, 2) <= 59 && Number(17, 2) <= 59;
    }

    private static readonly int[] TimeDigits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25];

    /// <summary>Rows of an export as the fields' written form; a problem as text, <see cref="End"/> after the last row.</summary>
    private interface IRowSource
    {
        public const string End = "\u0000end";

        string? Begin();

        ValueTask<string?> NextAsync(string?[] fields);
    }

    /// <summary>
    /// The CSV of docs/audit-log.md: a fixed header, rows ending in CRLF, text fields always quoted (a quote
    /// doubled), numbers bare, null as nothing. Anything else is a problem, not a guess.
    /// </summary>
    private sealed class CsvRows(StreamReader reader) : IRowSource
    {
        private static readonly string Header = string.Join(',', AuditExportWriter.Columns);
        private static readonly bool[] Quoted = [false, true, true, true, true, false, true, true, true, false, true, true];
        private readonly char[] _buffer = new char[1 << 16];
        private readonly StringBuilder _field = new();
        private int _position;
        private int _length;

        public string? Begin()
        {
            var header = new StringBuilder();
            while (true)
            {
                var c = Read();
                if (c < 0 || c == '\n')
                    break;
                header.Append((char)c);
                if (header.Length > Header.Length + 2)
                    break;
            }
            var line = header.ToString();
            if (line.Length > 0 && line[0] == '\uFEFF')
                return "the export starts with a byte order mark; it has none";
            return line == Header + "\r" ? null : $"the first line is not the CSV header {Header} ending in CRLF";
        }

        public ValueTask<string?> NextAsync(string?[] fields) => ValueTask.FromResult(Next(fields));

        private string? Next(string?[] fields)
        {
            if (Peek() < 0)
                return IRowSource.End;
            for (var column = 0; column < Columns; column++)
            {
                var c = Peek();
                if (c == '"')
                {
                    Read();
                    _field.Clear();
                    while (true)
                    {
                        if (_position == _length && !Fill())
                            return "the file ends inside a quoted field";
                        var rest = _buffer.AsSpan(_position, _length - _position);
                        var quote = rest.IndexOf('"');
                        if (quote < 0)
                        {
                            _field.Append(rest);
                            _position = _length;
                            continue;
                        }
                        _field.Append(rest[..quote]);
                        _position += quote + 1;
                        if (Peek() != '"')
                            break;
                        Read();
                        _field.Append('"');
                    }
                    if (!Quoted[column])
                        return $"{AuditExportWriter.Columns[column]} is a number and is never quoted";
                    fields[column] = _field.ToString();
                }
                else
                {
                    _field.Clear();
                    while (Peek() is >= 0 and not (',' or '\r' or '\n' or '"'))
                        _field.Append((char)Read());
                    if (_field.Length == 0)
                        fields[column] = null;
                    else if (Quoted[column])
                        return $"{AuditExportWriter.Columns[column]} is text and is always quoted";
                    else
                        fields[column] = _field.ToString();
                }
                var separator = Read();
                if (column < Columns - 1)
                {
                    if (separator != ',')
                        return separator is '\r' or '\n' or -1 ? $"the row has {column + 1} fields, not {Columns}" : "a field goes on after its closing quote";
                }
                else if (separator != '\r' || Read() != '\n')
                    return separator == ',' ? $"the row has more than {Columns} fields" : "the row does not end in CRLF";
            }
            return null;
        }

        private int Peek()
        {
            if (_position == _length && !Fill())
                return -1;
            return _buffer[_position];
        }

        private int Read()
        {
            if (_position == _length && !Fill())
                return -1;
            return _buffer[_position++];
        }

        private bool Fill()
        {
            _length = reader.Read(_buffer, 0, _buffer.Length);
            _position = 0;
            return _length > 0;
        }
    }

    /// <summary>JSON Lines: one object a line, ending in LF, with the twelve members, numbers as JSON numbers, null as null.</summary>
    private sealed class JsonlRows(StreamReader reader) : IRowSource
    {
        public string? Begin() => null;

        public async ValueTask<string?> NextAsync(string?[] fields)
        {
            var line = await reader.ReadLineAsync();
            if (line is null)
                return IRowSource.End;
            try
            {
                using var json = JsonDocument.Parse(line);
                var row = json.RootElement;
                if (row.ValueKind != JsonValueKind.Object)
                    return "the line is not a JSON object";
                var members = 0;
                foreach (var _ in row.EnumerateObject())
                    members++;
                if (members != Columns)
                    return $"the object has {members} members, not {Columns}";
                for (var column = 0; column < Columns; column++)
                {
                    var name = AuditExportWriter.Columns[column];
                    if (!row.TryGetProperty(name, out var value))
                        return $"the object has no {name}";
                    var number = column is 0 or 5 or 9;
                    fields[column] = value.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.Number when number => value.GetRawText(),
                        JsonValueKind.String when !number => value.GetString(),
                        _ => "\u0000",
                    };
                    if (fields[column] == "\u0000")
                        return $"{name} is {(number ? "a number or null" : "a string or null")}, not {value.ValueKind}";
                }
                return null;
            }
            catch (JsonException exception)
            {
                return $"the line is not JSON ({exception.Message})";
            }
        }
    }

    /// <summary>Passes the export's bytes on while counting and hashing them: the figures the manifest signs.</summary>
    private sealed class HashingReadStream(Stream inner) : ForwardReadStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public new long Length { get; private set; }

        public string Hash() => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override int Read(byte[] buffer, int offset, int count) => Counted(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override int Read(Span<byte> buffer) => Counted(buffer[..inner.Read(buffer)]);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Counted(buffer.Span[..read]);
        }

        private int Counted(ReadOnlySpan<byte> read)
        {
            _hash.AppendData(read);
            Length += read.Length;
            return read.Length;
        }
    }
}
