using System.Security.Cryptography;
using System.Text;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Cli.Tests;

/// <summary>
/// <c>gp audit verify</c> offline, over an export and manifest the portal made: it accepts them as they are, and
/// each kind of tampering is caught with a message that says what and where.
/// </summary>
public sealed class AuditVerifyTests : DatabaseTests, IAsyncLifetime
{
    private const int Events = 30;
    private static readonly Actor Audrey = new("audrey@example.com", [Roles.Auditor, Roles.Employee], 41);

    private readonly string _folder = Directory.CreateTempSubdirectory("gp-verify-").FullName;
    private string _csv = "";
    private string _manifest = "";
    private string _keys = "";
    private string _jsonl = "";
    private string _jsonlManifest = "";

    public async ValueTask InitializeAsync()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite, new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero)));
        await using (var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            for (var i = 1; i <= Events; i++)
                await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry($"user{i % 3}@example.com", [Roles.DataConsumer], AuditActions.RecordsRead,
                    SubjectId: i, Program: "mci", Purpose: i % 5 == 0 ? "" : "model training", Detail: $"Zoë's \"page\" {i},\nsecond line", RecordCount: i));
            await scope.CommitAsync();
        }
        var export = db.Get<AuditExport>();
        (_csv, _manifest) = await WriteAsync(export, "csv");
        (_jsonl, _jsonlManifest) = await WriteAsync(export, "jsonl");
        _keys = Path.Combine(_folder, "keys.pem");
        await File.WriteAllTextAsync(_keys, string.Concat((await db.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem)), Cancellation);
    }

    private async Task<(string Export, string Manifest)> WriteAsync(AuditExport export, string format)
    {
        var manifest = await export.ManifestAsync("1", Events.ToString(), format, Audrey, Cancellation);
        var plan = await export.StartAsync("1", Events.ToString(), format, Audrey, Cancellation);
        var path = Path.Combine(_folder, $"audit.{format}");
        await using (var file = File.Create(path))
            await export.WriteAsync(plan, file, Cancellation);
        var manifestPath = path + ".manifest.json";
        await File.WriteAllTextAsync(manifestPath, manifest.ToJson(), Cancellation);
        return (path, manifestPath);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Verify_TheExportAsMade_IsOk_InOneLine()
    {
        var csv = await VerifyAsync(_csv, _manifest);
        var jsonl = await VerifyAsync(_jsonl, _jsonlManifest);

        Assert.Equal((0, ""), (csv.ExitCode, csv.Error));
        Assert.Equal($"ok: 30 events, seq 1-30 (csv), every hash and link intact from the log's first event; manifest signed by key {KeyId()}; tree root matches; in the signed checkpoint of size 30\n", csv.Output);
        Assert.Equal((0, ""), (jsonl.ExitCode, jsonl.Error));
        Assert.StartsWith("ok: 30 events, seq 1-30 (jsonl)", jsonl.Output);
    }

    [Fact]
    public async Task Verify_OneByteFlipped_NamesTheEvent()
    {
        var bytes = await File.ReadAllBytesAsync(_csv, Cancellation);
        var at = IndexOf(bytes, "\"Zoë's \"\"page\"\" 12,"u8) + 1;
        bytes[at] ^= 0x01;

        var run = await VerifyAsync(await WriteTamperedAsync(bytes), _manifest);

        Assert.Equal((1, "gp: the export does not verify: event 12: its fields do not hash to its hash (the event was altered)\n"), (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Verify_ARowDeleted_NamesTheMissingSeq()
    {
        var rows = await RowsAsync(_csv);
        rows.RemoveAt(12);

        var run = await VerifyAsync(await WriteTamperedAsync(rows), _manifest);

        Assert.Equal((1, "gp: the export does not verify: seq 13 stands where seq 12 should: an event is missing, repeated or out of order\n"), (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Verify_TwoRowsSwapped_NamesTheFirstOutOfPlace()
    {
        var rows = await RowsAsync(_csv);
        (rows[20], rows[21]) = (rows[21], rows[20]);

        var run = await VerifyAsync(await WriteTamperedAsync(rows), _manifest);

        Assert.Equal((1, "gp: the export does not verify: seq 21 stands where seq 20 should: an event is missing, repeated or out of order\n"), (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Verify_TheTailTruncated_SaysWhereItEnds()
    {
        var rows = await RowsAsync(_csv);

        var run = await VerifyAsync(await WriteTamperedAsync(rows[..^3]), _manifest);

        Assert.Equal((1, "gp: the export does not verify: the export ends at seq 27, but the signed manifest runs to seq 30: seq 28 onwards is missing (the tail was cut, or events were removed and the rest re-chained)\n"),
            (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Verify_AForgedManifest_FitToATruncatedExport_IsRefusedForItsSignature()
    {
        var rows = await RowsAsync(_csv);
        var truncated = await WriteTamperedAsync(rows[..^3]);
        var manifest = AuditExportManifest.Parse(await File.ReadAllTextAsync(_manifest, Cancellation));
        var bytes = await File.ReadAllBytesAsync(truncated, Cancellation);
        var forged = manifest with
        {
            To = 27, Count = 27, TreeSize = 27, LastHash = HashOfRow(rows[^4]), ExportBytes = bytes.Length,
            ExportSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        };

        var run = await VerifyAsync(truncated, await WriteManifestAsync(forged));

        Assert.Equal((1, $"gp: the export does not verify: the manifest's signature does not verify with key {KeyId()}: the manifest was altered, or signed by another key\n"),
            (run.ExitCode, run.Error));
    }

    [Fact]
    public async Task Verify_AManifestSignedByAnotherKey_IsRefused_UnderItsOwnIdOrThePortals()
    {
        var manifest = AuditExportManifest.Parse(await File.ReadAllTextAsync(_manifest, Cancellation));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherId = SigningKeys.KeyIdOf(other.ExportSubjectPublicKeyInfo());
        var signature = Convert.ToBase64String(other.SignData(manifest.SignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        var ownId = await VerifyAsync(_csv, await WriteManifestAsync(manifest with { KeyId = otherId, Signature = signature }));
        var portalsId = await VerifyAsync(_csv, await WriteManifestAsync(manifest with { Signature = signature }));

        Assert.Equal((1, $"gp: the export does not verify: the manifest is signed by key {otherId}, which is not among the public keys given ({KeyId()})\n"), (ownId.ExitCode, ownId.Error));
        Assert.Equal((1, $"gp: the export does not verify: the manifest's signature does not verify with key {KeyId()}: the manifest was altered, or signed by another key\n"),
            (portalsId.ExitCode, portalsId.Error));
    }

    [Fact]
    public async Task Verify_AReChainedForgery_RowsRemovedAndTheRestReHashed_IsCaught()
    {
        // A forger removes events 11 to 13 and renumbers and re-hashes the rest: a chain that is perfect in itself.
        var events = (await RowsAsync(_csv)).Skip(1).Select(ParseRow).ToList();
        events.RemoveRange(10, 3);
        var prev = AuditChain.GenesisHash;
        var rechained = new List<AuditEvent>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] with { Seq = i + 1, PrevHash = prev };
            e = e with { Hash = AuditChain.ComputeHash(e) };
            rechained.Add(e);
            prev = e.Hash;
        }
        using var forged = new MemoryStream();
        var writer = new AuditExportWriter(forged, AuditExportFormat.Csv);
        writer.Begin();
        foreach (var e in rechained)
            await writer.WriteAsync(e, Cancellation);
        await writer.EndAsync(Cancellation);

        var run = await VerifyAsync(await WriteTamperedAsync(forged.ToArray()), _manifest);

        Assert.Equal((1, "gp: the export does not verify: the export ends at seq 27, but the signed manifest runs to seq 30: seq 28 onwards is missing (the tail was cut, or events were removed and the rest re-chained)\n"),
            (run.ExitCode, run.Error));
        // Even padded back to 30 events with invented ones, its last hash is not the one the portal signed.
        var padded = rechained.ToList();
        for (var seq = 28; seq <= Events; seq++)
        {
            var e = padded[^1] with { Seq = seq, PrevHash = padded[^1].Hash };
            padded.Add(e with { Hash = AuditChain.ComputeHash(e) });
        }
        using var longer = new MemoryStream();
        var padWriter = new AuditExportWriter(longer, AuditExportFormat.Csv);
        padWriter.Begin();
        foreach (var e in padded)
            await padWriter.WriteAsync(e, Cancellation);
        await padWriter.EndAsync(Cancellation);
        var paddedRun = await VerifyAsync(await WriteTamperedAsync(longer.ToArray()), _manifest);
        Assert.Equal((1, "gp: the export does not verify: event 30: its hash is not the manifest's last hash (the events were re-chained)\n"), (paddedRun.ExitCode, paddedRun.Error));
    }

    [Fact]
    public async Task Verify_BadArguments_OrUnreadableFiles_AreExit2()
    {
        var usage = await GpAsync("audit", "verify", _csv, "--manifest", _manifest);
        var missing = await GpAsync("audit", "verify", Path.Combine(_folder, "none.csv"), "--manifest", _manifest, "--public-key", _keys);
        var noKey = await GpAsync("audit", "verify", _csv, "--manifest", _manifest, "--public-key", _manifest);

        Assert.Equal(2, usage.ExitCode);
        Assert.StartsWith("gp: usage: gp audit verify", usage.Error);
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("gp: cannot read the export", missing.Error);
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("holds no ECDSA P-256 public key", noKey.Error);
    }

    private string KeyId() => SigningKeys.ParsePublicKeys(File.ReadAllText(_keys)).Keys.Single();

    private Task<Run> VerifyAsync(string export, string manifest) => GpAsync("audit", "verify", export, "--manifest", manifest, "--public-key", _keys);

    private static async Task<Run> GpAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await GpCommand.RunAsync(args, output, error);
        return new Run(exitCode, output.ToString().Replace("\r\n", "\n"), error.ToString().Replace("\r\n", "\n"));
    }

    private sealed record Run(int ExitCode, string Output, string Error);

    /// <summary>The export's CSV records (header first), each with its CRLF; a record may hold line feeds inside quotes.</summary>
    private static async Task<List<string>> RowsAsync(string path)
    {
        var text = await File.ReadAllTextAsync(path, Cancellation);
        return text.Split("\r\n").Where(row => row.Length > 0).Select(row => row + "\r\n").ToList();
    }

    private static AuditEvent ParseRow(string row)
    {
        var fields = new List<string?>();
        var i = 0;
        while (i < row.Length - 2)
        {
            if (row[i] == '"')
            {
                var value = new StringBuilder();
                i++;
                while (!(row[i] == '"' && row[i + 1] != '"'))
                {
                    value.Append(row[i]);
                    i += row[i] == '"' ? 2 : 1;
                }
                fields.Add(value.ToString());
                i += 2;
            }
            else
            {
                var end = row.IndexOfAny([',', '\r'], i);
                fields.Add(end == i ? null : row[i..end]);
                i = end + 1;
            }
        }
        return new AuditEvent
        {
            Seq = long.Parse(fields[0]!), OccurredAt = DateTimeOffset.Parse(fields[1]!), Actor = fields[2]!, ActorRoles = fields[3]!, Action = fields[4]!,
            SubjectId = fields[5] is { } s ? long.Parse(s) : null, Program = fields[6], Purpose = fields[7], Detail = fields[8],
            RecordCount = fields[9] is { } c ? long.Parse(c) : null, PrevHash = fields[10]!, Hash = fields[11]!,
        };
    }

    private static string HashOfRow(string row) => ParseRow(row).Hash;

    private Task<string> WriteTamperedAsync(IEnumerable<string> rows) => WriteTamperedAsync(Encoding.UTF8.GetBytes(string.Concat(rows)));

    private async Task<string> WriteTamperedAsync(byte[] bytes)
    {
        var path = Path.Combine(_folder, $"tampered-{Guid.NewGuid():N}.csv");
        await File.WriteAllBytesAsync(path, bytes, Cancellation);
        return path;
    }

    private async Task<string> WriteManifestAsync(AuditExportManifest manifest)
    {
        var path = Path.Combine(_folder, $"manifest-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, manifest.ToJson(), Cancellation);
        return path;
    }

    private static int IndexOf(byte[] bytes, ReadOnlySpan<byte> what) => bytes.AsSpan().IndexOf(what);
}
