using System.Data.Common;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Programs;

namespace GovernancePortal.Requests;

/// <summary>What one complete export delivered: the count of each file's entries and the archive's size and SHA-256.</summary>
public sealed record ExportReceipt(long Records, long ErasedRecords, long Revocations, long Requests, long AccessEvents, long Bytes, string Sha256)
{
    public string Describe(DateTimeOffset deliveredAt) =>
        $"Delivered {deliveredAt:d MMM yyyy HH:mm} UTC: {Count(Records, "record")} ({ErasedRecords:N0} of them erased), {Count(Revocations, "revocation")}, " +
        $"{Count(Requests, "request")}, {Count(AccessEvents, "access event")} by others; ZIP of {Bytes:N0} bytes, SHA-256 {Sha256}.";

    private static string Count(long count, string noun) => $"{count:N0} {noun}{(count == 1 ? "" : "s")}";
}

/// <summary>
/// An employee's copy of everything held about them (GDPR Art. 15 and 20): a ZIP of JSON files — their
/// records with the payloads opened, their revocations, their requests and the access events about
/// them — written straight to the response while it is read from the database, so memory stays the
/// same however large it is. The request shows the progress to every node; a download that stops
/// before its end is marked stopped and leaves the request open; the first complete one completes it
/// with a receipt.
/// </summary>
public sealed class SubjectExport(ConnectionFactory connections, ProgramQueries programQueries, DataKeyStore keys, RequestDesk desk, TimeProvider time,
    CheckpointStore checkpoints, AuditTree tree, SigningKeys signingKeys)
{
    public const string ContentType = "application/zip";

    /// <summary>How often the progress on the request is brought up to date while records stream.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Flush the JSON writer into the ZIP entry whenever this much is pending, so neither grows.
    private const int FlushThreshold = 64 * 1024;

    public static string FileName(string reference) => $"my-data-{reference}.zip";

    /// <summary>The subject's own export request; another person's reference, or a request of another kind, is not found.</summary>
    public async Task<DataRequest> FindAsync(long subjectId, string reference, CancellationToken cancellationToken = default)
    {
        var request = await desk.GetForSubjectAsync(subjectId, reference, cancellationToken);
        return request.Kind == RequestKind.Export ? request : throw new NotFoundProblem("There is no such request among yours.");
    }

    /// <summary>
    /// Writes the archive of <paramref name="request"/> (found by <see cref="FindAsync"/> for the same subject) to
    /// <paramref name="output"/>. Throws what the output or the database throws; the request then records that the
    /// download stopped.
    /// </summary>
    public async Task<ExportReceipt> WriteAsync(long subjectId, DataRequest request, Stream output, Actor actor, CancellationToken cancellationToken = default)
    {
        if (request.SubjectId != subjectId || request.Kind != RequestKind.Export)
            throw new NotFoundProblem("There is no such request among yours.");

        await using var connection = await connections.OpenAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM records WHERE subject_id = @SubjectId", new { SubjectId = subjectId }, cancellationToken: cancellationToken));
        await desk.ExportStartedAsync(request.Id, total, cancellationToken);
        var progress = new Progress(time, total, (done, token) => desk.ExportProgressAsync(request.Id, done, token));
        try
        {
            var archive = new HashingStream(output, deferSynchronousWrites: true);
            var counts = await WriteArchiveAsync(connection, subjectId, request, archive, actor, progress, cancellationToken);
            await archive.FlushAsync(cancellationToken);
            var receipt = counts with { Bytes = archive.Length, Sha256 = archive.Hash() };
            await desk.ExportDeliveredAsync(request, receipt, actor, cancellationToken);
            return receipt;
        }
        catch (Exception)
        {
            await desk.ExportStoppedAsync(request.Id, progress.Done);
            throw;
        }
    }

    private async Task<ExportReceipt> WriteArchiveAsync(DbConnection connection, long subjectId, DataRequest request, Stream archive, Actor actor,
        Progress progress, CancellationToken cancellationToken)
    {
        var programs = await programQueries.ListAsync(cancellationToken);
        var programKeys = programs.ToDictionary(p => p.Id, p => p.Key);
        var categoryKeys = programs.SelectMany(p => p.Categories).ToDictionary(c => c.Id, c => c.Key);
        var subject = await connection.QuerySingleAsync<SubjectRow>(
            "SELECT email AS Email, display_name AS DisplayName, external_id AS ExternalId FROM subjects WHERE id = @SubjectId", new { SubjectId = subjectId });
        var files = new List<(string Name, long Count, string Sha256)>();

        await using var zip = await ZipArchive.CreateAsync(archive, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken);
        await WriteTextAsync(zip, "README.txt", ReadMe(request), cancellationToken);

        long erased = 0;
        files.Add(await WriteJsonAsync(zip, "records.json", async writer =>
        {
            var liveKeys = await keys.GetManyAsync(connection,
                await connection.QueryAsync<long>(new CommandDefinition("SELECT id FROM data_keys WHERE subject_id = @SubjectId", new { SubjectId = subjectId }, cancellationToken: cancellationToken)));
            long count = 0;
            await foreach (var record in connection.QueryUnbufferedAsync<SealedRecord>(RecordsOfSubject(SqlDialect.Of(connection)), new { SubjectId = subjectId }).WithCancellation(cancellationToken))
            {
                if (!WriteRecord(writer, record, programKeys[record.ProgramId], categoryKeys[record.CategoryId], liveKeys))
                    erased++;
                count++;
                await progress.ReportAsync(count, cancellationToken);
                if (writer.BytesPending > FlushThreshold)
                    await writer.FlushAsync(cancellationToken);
            }
            return count;
        }, cancellationToken));

        files.Add(await WriteJsonAsync(zip, "programs.json", writer =>
        {
            foreach (var program in programs)
                WriteProgram(writer, program);
            return Task.FromResult((long)programs.Count);
        }, cancellationToken));

        files.Add(await WriteJsonAsync(zip, "revocations.json", async writer =>
        {
            long count = 0;
            await foreach (var revocation in connection.QueryUnbufferedAsync<RevocationRow>(RevocationsOfSubject, new { SubjectId = subjectId }).WithCancellation(cancellationToken))
            {
                writer.WriteStartObject();
                writer.WriteString("program", programKeys[revocation.ProgramId]);
                writer.WriteString("category", revocation.CategoryId is { } id ? categoryKeys[id] : null);
                writer.WriteString("kind", revocation.Kind);
                writer.WriteString("createdAt", revocation.CreatedAt);
                WriteTime(writer, "endedAt", revocation.WithdrawnAt);
                writer.WriteEndObject();
                count++;
            }
            return count;
        }, cancellationToken));

        var requests = await desk.ForSubjectAsync(subjectId, cancellationToken);
        files.Add(await WriteJsonAsync(zip, "requests.json", writer =>
        {
            foreach (var each in requests)
                WriteRequest(writer, each);
            return Task.FromResult((long)requests.Count);
        }, cancellationToken));

        var accessSeqs = new List<long>();
        files.Add(await WriteJsonAsync(zip, "access-events.json", async writer =>
        {
            long count = 0;
            await foreach (var access in AccessHistory.StreamAsync(connection, subjectId, actor.Name).WithCancellation(cancellationToken))
            {
                WriteAccessEvent(writer, access);
                accessSeqs.Add(access.Seq);
                count++;
                if (writer.BytesPending > FlushThreshold)
                    await writer.FlushAsync(cancellationToken);
            }
            return count;
        }, cancellationToken));

        files.Add(await WriteAccessProofsAsync(zip, connection, subjectId, actor, accessSeqs, cancellationToken));

        await WriteManifestAsync(zip, request, subject, files, cancellationToken);
        var counted = files.ToDictionary(file => file.Name, file => file.Count);
        return new ExportReceipt(counted["records.json"], erased, counted["revocations.json"], counted["requests.json"], counted["access-events.json"], 0, "");
    }

    /// <summary>
    /// <c>access-proofs.json</c>: each access event as stored (every field its hash covers) with its inclusion proof in
    /// the checkpoint of <c>checkpoint.txt</c>, also as a proof file <c>proofs/seq-&lt;seq&gt;.txt</c> for <c>gp audit
    /// verify-proof</c>, and the keys to check the checkpoint's signature, <c>public-keys.pem</c>. The latest checkpoint
    /// is used when it covers every event listed; otherwise one of the head is signed now. Only events up to the last
    /// one listed in access-events.json are proven, so both files name the same events.
    /// </summary>
    private async Task<(string Name, long Count, string Sha256)> WriteAccessProofsAsync(ZipArchive zip, DbConnection connection, long subjectId, Actor actor,
        IReadOnlyList<long> seqs, CancellationToken cancellationToken)
    {
        if (seqs.Count == 0)
            return await WriteJsonAsync(zip, AccessProofsFile, _ => Task.FromResult(0L), cancellationToken);
        var last = seqs[^1];
        var checkpoint = await checkpoints.LatestAsync(cancellationToken) is { } latest && latest.TreeSize >= last
            ? latest
            : await checkpoints.SignNowAsync(cancellationToken);
        var proofs = (await tree.InclusionProofsAsync(seqs, checkpoint.TreeSize, cancellationToken)).ToDictionary(proof => proof.Seq);
        var written = await WriteJsonAsync(zip, AccessProofsFile, async writer =>
        {
            long count = 0;
            await foreach (var e in connection.QueryUnbufferedAsync<AuditEvent>(AccessEventsAsStored, new { SubjectId = subjectId, Self = actor.Name, Last = last })
                .WithCancellation(cancellationToken))
            {
                var proof = proofs[e.Seq];
                writer.WriteStartObject();
                writer.WriteStartObject("event");
                AuditExportWriter.WriteFields(writer, e);
                writer.WriteEndObject();
                writer.WriteNumber("leafIndex", proof.Index);
                writer.WriteNumber("treeSize", checkpoint.TreeSize);
                writer.WriteString("proofFile", ProofFile(e.Seq));
                writer.WriteStartArray("proof");
                foreach (var hash in proof.Path)
                    writer.WriteStringValue(Convert.ToHexStringLower(hash));
                writer.WriteEndArray();
                writer.WriteEndObject();
                count++;
                if (writer.BytesPending > FlushThreshold)
                    await writer.FlushAsync(cancellationToken);
            }
            return count;
        }, cancellationToken);
        foreach (var seq in seqs)
            await WriteTextAsync(zip, ProofFile(seq), string.Concat(proofs[seq].Path.Select(hash => Convert.ToHexStringLower(hash) + "\n")), cancellationToken);
        await WriteTextAsync(zip, "checkpoint.txt", checkpoint.Note, cancellationToken);
        var publicKeys = await signingKeys.PublicKeysAsync(cancellationToken);
        await WriteTextAsync(zip, "public-keys.pem", string.Concat(publicKeys.OrderBy(key => key.RetiredAt is null ? 0 : 1).Select(key => key.Pem)), cancellationToken);
        return written;
    }

    public const string AccessProofsFile = "access-proofs.json";

    public static string ProofFile(long seq) => $"proofs/seq-{seq}.txt";

    // The same events as AccessHistory.StreamAsync, with every stored field.
    private const string AccessEventsAsStored = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events
        WHERE subject_id = @SubjectId AND lower(actor) <> lower(@Self) AND seq <= @Last
        ORDER BY seq
        """;

    // In the order of the subject's index, so the rows stream without a sort: (subject, program, category, captured_at,
    // rowid) on SQLite, (subject, program, captured_at, id) on PostgreSQL (db/*/V12__records_without_foreign_keys.sql).
    private static string RecordsOfSubject(SqlDialect dialect) => $"""
        SELECT id AS Id, program_id AS ProgramId, category_id AS CategoryId, subject_id AS SubjectId, data_key_id AS DataKeyId,
               captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
        FROM records
        WHERE subject_id = @SubjectId
        ORDER BY {(dialect.Provider == DatabaseProvider.Sqlite ? "program_id, category_id, captured_at, id" : "program_id, captured_at, id")}
        """;

    private const string RevocationsOfSubject = """
        SELECT program_id AS ProgramId, category_id AS CategoryId, kind AS Kind, created_at AS CreatedAt, withdrawn_at AS WithdrawnAt
        FROM revocations
        WHERE subject_id = @SubjectId
        ORDER BY created_at, id
        """;

    /// <summary>Writes one record; false when its payload can no longer be read (erased or failing its integrity check).</summary>
    private static bool WriteRecord(Utf8JsonWriter writer, SealedRecord record, string program, string category, IReadOnlyDictionary<long, DataKey> liveKeys)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", record.Id);
        writer.WriteString("program", program);
        writer.WriteString("category", category);
        writer.WriteString("capturedAt", record.CapturedAt);
        writer.WriteString("receivedAt", record.ReceivedAt);
        var opened = false;
        if (!liveKeys.TryGetValue(record.DataKeyId, out var key))
        {
            writer.WriteString("state", "erased");
            writer.WriteNull("payload");
        }
        else
        {
            string? json = null;
            try
            {
                json = record.Open(key);
            }
            catch (CryptographicException)
            {
            }
            writer.WriteString("state", json is null ? "unreadable" : "open");
            writer.WritePropertyName("payload");
            if (json is null)
                writer.WriteNullValue();
            else if (IsJson(json))
                writer.WriteRawValue(json, skipInputValidation: true);
            else
                writer.WriteStringValue(json);
            opened = json is not null;
        }
        writer.WriteEndObject();
        return opened;
    }

    private static bool IsJson(string text)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteProgram(Utf8JsonWriter writer, MonitoringProgram program)
    {
        writer.WriteStartObject();
        writer.WriteString("key", program.Key);
        writer.WriteString("name", program.Name);
        writer.WriteString("purpose", program.Purpose);
        writer.WriteString("owner", program.Owner);
        writer.WriteString("legalBasis", program.LegalBasis);
        writer.WriteString("state", program.State);
        writer.WriteStartArray("categories");
        foreach (var category in program.Categories)
        {
            writer.WriteStartObject();
            writer.WriteString("key", category.Key);
            writer.WriteString("name", category.Name);
            writer.WriteString("description", category.Description);
            writer.WriteString("sensitivity", category.Sensitivity);
            writer.WriteNumber("retentionDays", category.RetentionDays);
            WriteTime(writer, "retiredAt", category.RetiredAt);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteRequest(Utf8JsonWriter writer, DataRequest request)
    {
        writer.WriteStartObject();
        writer.WriteString("reference", request.Reference);
        writer.WriteString("kind", request.Kind);
        writer.WriteString("program", request.ProgramKey);
        writer.WriteString("category", request.CategoryKey);
        writer.WriteString("status", request.Status);
        writer.WriteString("receivedAt", request.ReceivedAt);
        writer.WriteString("dueAt", request.EffectiveDueAt);
        writer.WriteString("extensionReason", request.ExtensionReason);
        writer.WriteString("decidedBy", request.DecidedBy);
        writer.WriteString("decisionReason", request.DecisionReason);
        WriteTime(writer, "completedAt", request.CompletedAt);
        writer.WriteString("receipt", request.Receipt);
        writer.WriteEndObject();
    }

    private static void WriteAccessEvent(Utf8JsonWriter writer, AccessEvent access)
    {
        writer.WriteStartObject();
        writer.WriteNumber("auditSeq", access.Seq);
        writer.WriteString("occurredAt", access.OccurredAt);
        writer.WriteString("actor", access.Actor);
        writer.WriteStartArray("roles");
        foreach (var role in access.Roles)
            writer.WriteStringValue(role);
        writer.WriteEndArray();
        writer.WriteString("action", access.Action);
        writer.WriteString("program", access.Program);
        writer.WriteStartArray("categories");
        foreach (var category in access.Categories)
            writer.WriteStringValue(category);
        writer.WriteEndArray();
        if (access.RecordCount is { } records)
            writer.WriteNumber("recordCount", records);
        else
            writer.WriteNull("recordCount");
        if (access.GrantId is { } grant)
            writer.WriteNumber("grant", grant);
        else
            writer.WriteNull("grant");
        writer.WriteString("purpose", access.Purpose);
        writer.WriteString("detail", access.Detail);
        writer.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } time)
            writer.WriteString(name, time);
        else
            writer.WriteNull(name);
    }

    private async Task WriteManifestAsync(ZipArchive zip, DataRequest request, SubjectRow subject,
        IReadOnlyList<(string Name, long Count, string Sha256)> files, CancellationToken cancellationToken)
    {
        await using var entry = await zip.CreateEntry("manifest.json", CompressionLevel.Optimal).OpenAsync(cancellationToken);
        await using var writer = new Utf8JsonWriter(entry, JsonOptions);
        writer.WriteStartObject();
        writer.WriteString("reference", request.Reference);
        writer.WriteString("generatedAt", time.GetUtcNow());
        writer.WriteStartObject("subject");
        writer.WriteString("email", subject.Email);
        writer.WriteString("displayName", subject.DisplayName);
        writer.WriteString("externalId", subject.ExternalId);
        writer.WriteEndObject();
        writer.WriteStartArray("files");
        foreach (var (name, count, sha256) in files)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteNumber("entries", count);
            writer.WriteString("sha256", sha256);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes one JSON array file; <paramref name="writeItems"/> writes its items and returns how many. Returns the name, count and SHA-256 of the file.</summary>
    private static async Task<(string Name, long Count, string Sha256)> WriteJsonAsync(ZipArchive zip, string name,
        Func<Utf8JsonWriter, Task<long>> writeItems, CancellationToken cancellationToken)
    {
        await using var entry = await zip.CreateEntry(name, CompressionLevel.Optimal).OpenAsync(cancellationToken);
        var hashed = new HashingStream(entry);
        long count;
        await using (var writer = new Utf8JsonWriter(hashed, JsonOptions))
        {
            writer.WriteStartArray();
            count = await writeItems(writer);
            writer.WriteEndArray();
        }
        return (name, count, hashed.Hash());
    }

    private static async Task WriteTextAsync(ZipArchive zip, string name, string text, CancellationToken cancellationToken)
    {
        await using var entry = await zip.CreateEntry(name, CompressionLevel.Optimal).OpenAsync(cancellationToken);
        await entry.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    private static string ReadMe(DataRequest request) => $"""
        A copy of everything the Governance Portal holds about you (request {request.Reference}).

        records.json        every record a monitoring program collected about you, its payload opened
                            ("state": "open"); "erased" when its key was destroyed and nobody can read
                            it any more; "unreadable" when it fails its integrity check
        programs.json       the programs in the register: purpose, legal basis, categories, retention
        revocations.json    the programs and categories you stopped, and when
        requests.json       your requests (erasure, copies, objections), their deadlines and decisions
        access-events.json  every audit event about you written by someone other than you: who, in
                            what role, when, which program and categories, how many records, under
                            which grant and purpose
        access-proofs.json  each of those access events as the audit log stores it (every field its
                            hash covers), with the proof that it is in the signed checkpoint below
        proofs/             the same proofs, one file per event (seq-<seq>.txt), for gp
        checkpoint.txt      the audit log's signed checkpoint those proofs lead to
        public-keys.pem     the portal's public signing keys, to check the checkpoint's signature
        manifest.json       when this copy was made, how many entries each JSON file holds and its
                            SHA-256

        Times are UTC (ISO 8601). Every file is JSON in UTF-8.

        CHECKING THAT THE ACCESSES YOU WERE SHOWN ARE IN THE AUDIT LOG

        Auditors verify the same audit log; these proofs let you check, without trusting the
        portal, that each access event listed here is in it, unchanged. (When nobody but you
        accessed your data there is nothing to prove, and the last three files are absent.)

        1. The checkpoint is signed by the portal:
               gp audit verify-checkpoint checkpoint.txt --public-key public-keys.pem
           or with OpenSSL alone, as docs/audit-log.md ("Checkpoints") shows.
        2. Each event's "hash" is the SHA-256 of its fields, encoded as docs/audit-log.md
           ("Canonical encoding") says.
        3. Each event is in the checkpoint's tree (index = seq - 1):
               gp audit verify-proof --leaf <the event's hash> --index <leafIndex> \
                   --checkpoint checkpoint.txt --public-key public-keys.pem --proof proofs/seq-<seq>.txt
           Each prints "ok: ..." when the event is in the log, or says why not.
        4. To know that the log the auditors hold is this one, ask an auditor whether their
           checkpoints agree with yours: a consistency proof between the two settles it.

        """;

    /// <summary>Brings the request's progress up to date at most once per <see cref="ProgressInterval"/>.</summary>
    private sealed class Progress(TimeProvider clock, long total, Func<long, CancellationToken, Task> report)
    {
        private long _reportedAt = clock.GetTimestamp();

        public long Done { get; private set; }

        public async Task ReportAsync(long done, CancellationToken cancellationToken)
        {
            Done = done;
            if (done == total || clock.GetElapsedTime(_reportedAt) < ProgressInterval)
                return;
            _reportedAt = clock.GetTimestamp();
            await report(done, cancellationToken);
        }
    }

    private sealed record SubjectRow
    {
        public string? Email { get; init; }
        public string DisplayName { get; init; } = "";
        public string? ExternalId { get; init; }
    }

    private sealed record RevocationRow
    {
        public long ProgramId { get; init; }
        public long? CategoryId { get; init; }
        public string Kind { get; init; } = "";
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset? WithdrawnAt { get; init; }
    }
}

/// <summary>
/// Passes writes through to another stream, counting the bytes and hashing them with SHA-256. With
/// <c>deferSynchronousWrites</c>, a synchronous write is held until the next asynchronous write or flush:
/// a ZIP entry's stream flushes its compressor synchronously when it is disposed (a few KiB at most), and
/// a response body (Kestrel) refuses synchronous writes.
/// </summary>
internal sealed class HashingStream(Stream inner, bool deferSynchronousWrites = false) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly MemoryStream _deferred = new();
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public string Hash() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        _written += buffer.Length;
        if (deferSynchronousWrites)
            _deferred.Write(buffer);
        else
            inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await WriteDeferredAsync(cancellationToken);
        _hash.AppendData(buffer.Span);
        _written += buffer.Length;
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        if (!deferSynchronousWrites)
            inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WriteDeferredAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    private async Task WriteDeferredAsync(CancellationToken cancellationToken)
    {
        if (_deferred.Length == 0)
            return;
        await inner.WriteAsync(_deferred.GetBuffer().AsMemory(0, (int)_deferred.Length), cancellationToken);
        _deferred.SetLength(0);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _deferred.Dispose();
        }
        base.Dispose(disposing);
    }
}
