using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Requests;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Requests;

public sealed class SubjectExportTests : DatabaseTests
{
    private static Actor Employee(string email, long subjectId) => new(email, [Roles.Employee], subjectId);

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_HoldsMyRecordsOpened_MyRevocationsRequestsAndOthersAccess_AndNothingOfBobs(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"window":"Inbox","text":"Hi Sam"}"""),
            new NewRecord(mci.Id, mci["transcriptions"], alice, SampleData.Epoch.AddHours(1), """{"text":"alice speaking"}"""),
            new NewRecord(mci.Id, mci["keystrokes"], bob, SampleData.Epoch.AddHours(2), """{"text":"bob's secret"}"""));
        var me = Employee("alice@example.com", alice);
        await db.Get<Withdrawals>().WithdrawAsync(alice, "mci", "transcriptions", me, Cancellation);
        await AppendAsync(db, new AuditEntry("dana@example.com", [Roles.DataConsumer], "records.read", SubjectId: alice, Program: "mci",
            Purpose: "model evaluation", RecordCount: 2, Detail: "categories: keystrokes; grant 7"));
        await AppendAsync(db, new AuditEntry("dana@example.com", [Roles.DataConsumer], "records.read", SubjectId: bob, Program: "mci", RecordCount: 1));
        var request = await db.Get<RequestDesk>().SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);

        var (bytes, receipt) = await ExportAsync(db, alice, request.Reference, me);

        var zip = Read(bytes);
        var danasRead = Assert.Single(zip["access-events.json"].EnumerateArray()).GetProperty("auditSeq").GetInt64();
        Assert.Equal(["README.txt", "records.json", "programs.json", "revocations.json", "requests.json", "access-events.json", "access-proofs.json",
            SubjectExport.ProofFile(danasRead), "checkpoint.txt", "public-keys.pem", "manifest.json"], zip.Keys);
        var records = zip["records.json"].EnumerateArray().ToList();
        Assert.Equal(["Hi Sam", "alice speaking"], records.Select(r => r.GetProperty("payload").GetProperty("text").GetString()));
        Assert.Equal(["keystrokes", "transcriptions"], records.Select(r => r.GetProperty("category").GetString()));
        Assert.All(records, r => Assert.Equal("open", r.GetProperty("state").GetString()));
        Assert.DoesNotContain("bob", System.Text.Encoding.UTF8.GetString(Entry(bytes, "records.json")));
        Assert.Equal("transcriptions", Assert.Single(zip["revocations.json"].EnumerateArray()).GetProperty("category").GetString());
        Assert.Equal(["erasure", "export"], zip["requests.json"].EnumerateArray().Select(r => r.GetProperty("kind").GetString()).Order());
        var access = Assert.Single(zip["access-events.json"].EnumerateArray());
        Assert.Equal("dana@example.com", access.GetProperty("actor").GetString());
        Assert.Equal(7, access.GetProperty("grant").GetInt64());
        Assert.Equal(["keystrokes"], access.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, access.GetProperty("recordCount").GetInt64());
        Assert.Equal(new ExportReceipt(2, 0, 1, 2, 1, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))), receipt);
        var manifest = zip["manifest.json"];
        Assert.Equal(request.Reference, manifest.GetProperty("reference").GetString());
        Assert.Equal("alice@example.com", manifest.GetProperty("subject").GetProperty("email").GetString());
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Entry(bytes, file.GetProperty("name").GetString()!))), file.GetProperty("sha256").GetString());
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_Completed_HasAReceiptWithTheCountsAndTheArchiveHash_AndIsAudited(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 3)
            .Select(i => new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch.AddMinutes(i), $$"""{"i":{{i}}}""")).ToArray());
        var me = Employee("alice@example.com", alice);
        var desk = db.Get<RequestDesk>();
        var request = await desk.SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);

        var (bytes, receipt) = await ExportAsync(db, alice, request.Reference, me);

        var completed = await desk.GetForSubjectAsync(alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, completed.Status);
        Assert.NotNull(completed.CompletedAt);
        Assert.Contains("3 records (0 of them erased)", completed.Receipt);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(bytes)), completed.Receipt);
        Assert.Equal((3L, 3L), (completed.ProgressDone, completed.ProgressTotal));
        Assert.Equal(3, receipt.Records);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE action = 'request.export.delivered' AND subject_id = @alice AND record_count = 3", new { alice }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_OfASubjectWithNoData_IsAValidArchiveOfEmptyFiles_AndCompletes(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var carol = await SampleData.SubjectAsync(db, "carol@example.com");
        var me = Employee("carol@example.com", carol);
        var request = await db.Get<RequestDesk>().SubmitAsync(carol, RequestKind.Export, null, null, me, Cancellation);

        var (bytes, receipt) = await ExportAsync(db, carol, request.Reference, me);

        var zip = Read(bytes);
        Assert.Empty(zip["records.json"].EnumerateArray());
        Assert.Empty(zip["revocations.json"].EnumerateArray());
        Assert.Empty(zip["access-events.json"].EnumerateArray());
        Assert.Single(zip["requests.json"].EnumerateArray());
        Assert.Equal((0L, 0L, 0L, 1L), (receipt.Records, receipt.Revocations, receipt.AccessEvents, receipt.Requests));
        var completed = await db.Get<RequestDesk>().GetForSubjectAsync(carol, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, completed.Status);
        Assert.Contains("0 records", completed.Receipt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_ErasedRecords_AreListedAsErasedWithoutPayload(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"text":"kept"}"""),
            new NewRecord(mci.Id, mci["transcriptions"], alice, SampleData.Epoch, """{"text":"shredded"}"""));
        await SampleData.DestroyKeysAsync(db, alice, mci.Id, mci["transcriptions"]);
        var me = Employee("alice@example.com", alice);
        var request = await db.Get<RequestDesk>().SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);

        var (bytes, receipt) = await ExportAsync(db, alice, request.Reference, me);

        var records = Read(bytes)["records.json"].EnumerateArray().ToList();
        Assert.Equal(["open", "erased"], records.Select(r => r.GetProperty("state").GetString()));
        Assert.Equal(JsonValueKind.Null, records[1].GetProperty("payload").ValueKind);
        Assert.Equal((2L, 1L), (receipt.Records, receipt.ErasedRecords));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_ShowsItsProgressOnTheRequestWhileItStreams(Engine engine)
    {
        var time = new FakeTimeProvider(SampleData.Epoch.AddDays(1));
        await using var db = await TestDatabase.CreateAsync(engine, time);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, NoisyRecords(mci, alice, 3_000));
        var me = Employee("alice@example.com", alice);
        var desk = db.Get<RequestDesk>();
        var request = await desk.SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);
        var seen = new List<DataRequest>();
        var output = new ObservedStream(async written =>
        {
            // Each write moves the clock past the progress interval, so the next record brings the progress up to date.
            time.Advance(SubjectExport.ProgressInterval + TimeSpan.FromMilliseconds(1));
            if (seen.Count < 50)
                seen.Add(await desk.GetForSubjectAsync(alice, request.Reference, Cancellation));
        });

        await db.Get<SubjectExport>().WriteAsync(alice, request, output, me, Cancellation);

        Assert.All(seen, s => Assert.Equal(3_000, s.ProgressTotal));
        Assert.All(seen, s => Assert.Equal(RequestStatus.InProgress, s.Status));
        Assert.Contains(seen, s => s.ProgressDone is > 0 and < 3_000);
        Assert.Equal(seen.Select(s => s.ProgressDone).Order(), seen.Select(s => s.ProgressDone));
        Assert.Equal(RequestStatus.Completed, (await desk.GetForSubjectAsync(alice, request.Reference, Cancellation)).Status);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_Interrupted_LeavesTheRequestOpenWithoutReceipt_MarkedStopped_AndTheNextDownloadCompletes(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, NoisyRecords(mci, alice, 3_000));
        var me = Employee("alice@example.com", alice);
        var desk = db.Get<RequestDesk>();
        var export = db.Get<SubjectExport>();
        var request = await desk.SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);
        var closed = new ObservedStream(written => written > 32 * 1024 ? throw new IOException("The browser closed the connection.") : Task.CompletedTask);

        await Assert.ThrowsAsync<IOException>(() => export.WriteAsync(alice, request, closed, me, Cancellation));

        var stopped = await desk.GetForSubjectAsync(alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.InProgress, stopped.Status);
        Assert.Null(stopped.Receipt);
        Assert.Null(stopped.CompletedAt);
        Assert.NotNull(stopped.ProgressStoppedAt);
        Assert.InRange(stopped.ProgressDone!.Value, 1, 2_999);
        await using (var connection = await db.OpenAsync())
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM audit_events WHERE action = 'request.export.delivered'"));

        var (bytes, receipt) = await ExportAsync(db, alice, request.Reference, me);

        Assert.Equal(3_000, Read(bytes)["records.json"].GetArrayLength());
        var completed = await desk.GetForSubjectAsync(alice, request.Reference, Cancellation);
        Assert.Equal(RequestStatus.Completed, completed.Status);
        Assert.Null(completed.ProgressStoppedAt);
        Assert.Equal(3_000, receipt.Records);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_AnotherPersonsReference_OrARequestOfAnotherKind_IsNotFound(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db, new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"text":"alice's"}"""));
        var desk = db.Get<RequestDesk>();
        var export = db.Get<SubjectExport>();
        var alices = await desk.SubmitAsync(alice, RequestKind.Export, null, null, Employee("alice@example.com", alice), Cancellation);
        var bobsErasure = await desk.SubmitAsync(bob, RequestKind.Erasure, null, null, Employee("bob@example.com", bob), Cancellation);
        var bobAsActor = Employee("bob@example.com", bob);

        await Assert.ThrowsAsync<NotFoundProblem>(() => export.FindAsync(bob, alices.Reference, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => export.FindAsync(bob, bobsErasure.Reference, Cancellation));
        await Assert.ThrowsAsync<NotFoundProblem>(() => export.FindAsync(bob, "EXP-AAAA-AAAA", Cancellation));
        using var output = new MemoryStream();
        await Assert.ThrowsAsync<NotFoundProblem>(() => export.WriteAsync(bob, alices, output, bobAsActor, Cancellation));
        Assert.Equal(0, output.Length);
        Assert.Equal(RequestStatus.Received, (await desk.GetForSubjectAsync(alice, alices.Reference, Cancellation)).Status);
    }

    private static NewRecord[] NoisyRecords(SampleProgram program, long subject, int count) =>
        Enumerable.Range(0, count)
            .Select(i => new NewRecord(program.Id, program["keystrokes"], subject, SampleData.Epoch.AddSeconds(i),
                $$"""{"i":{{i}},"noise":"{{Convert.ToHexString(RandomNumberGenerator.GetBytes(48))}}"}"""))
            .ToArray();

    private static async Task AppendAsync(TestDatabase db, AuditEntry entry)
    {
        await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync();
        await db.Get<AuditLog>().AppendAsync(scope, entry);
        await scope.CommitAsync();
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_ProvesEachAccessEventIsInASignedCheckpoint_WithTheOfflineVerifier(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var me = Employee("alice@example.com", alice);
        for (var i = 0; i < 6; i++)
        {
            await AppendAsync(db, new AuditEntry("dana@example.com", [Roles.DataConsumer], "records.read", SubjectId: i % 2 == 0 ? alice : bob, Program: "mci",
                Purpose: "model evaluation", RecordCount: i + 1, Detail: $"categories: keystrokes; grant {i}"));
        }
        // An older checkpoint that does not cover the last read: the export signs a fresh one.
        await db.Get<CheckpointStore>().SignAsync(2, Cancellation);
        await AppendAsync(db, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "request.viewed", SubjectId: alice, Detail: "\u00e9t\u00e9\nline two"));
        var request = await db.Get<RequestDesk>().SubmitAsync(alice, RequestKind.Export, null, null, me, Cancellation);

        var (bytes, _) = await ExportAsync(db, alice, request.Reference, me);

        var zip = Read(bytes);
        var checkpoint = Checkpoint.Parse(System.Text.Encoding.UTF8.GetString(Entry(bytes, "checkpoint.txt")));
        var keys = GovernancePortal.Crypto.SigningKeys.ParsePublicKeys(System.Text.Encoding.UTF8.GetString(Entry(bytes, "public-keys.pem")));
        Assert.True(Checkpoint.Verify(checkpoint, keys));
        var shown = zip["access-events.json"].EnumerateArray().Select(e => e.GetProperty("auditSeq").GetInt64()).ToList();
        var proven = zip[SubjectExport.AccessProofsFile].EnumerateArray().ToList();
        Assert.Equal(4, shown.Count);
        Assert.Equal(shown, proven.Select(p => p.GetProperty("event").GetProperty("seq").GetInt64()));
        Assert.True(checkpoint.TreeSize >= shown[^1]);
        foreach (var item in proven)
        {
            var e = item.GetProperty("event");
            var stored = new AuditEvent
            {
                Seq = e.GetProperty("seq").GetInt64(),
                OccurredAt = DateTimeOffset.ParseExact(e.GetProperty("occurredAt").GetString()!, AuditChain.TimeFormat, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal),
                Actor = e.GetProperty("actor").GetString()!,
                ActorRoles = e.GetProperty("actorRoles").GetString()!,
                Action = e.GetProperty("action").GetString()!,
                SubjectId = e.GetProperty("subject").GetInt64(),
                Program = e.GetProperty("program").GetString(),
                Purpose = e.GetProperty("purpose").GetString(),
                Detail = e.GetProperty("detail").GetString(),
                RecordCount = e.GetProperty("recordCount").ValueKind == JsonValueKind.Null ? null : e.GetProperty("recordCount").GetInt64(),
                PrevHash = e.GetProperty("prevHash").GetString()!,
            };
            Assert.Equal(alice, stored.SubjectId);
            Assert.Equal(e.GetProperty("hash").GetString(), AuditChain.ComputeHash(stored));
            var proof = item.GetProperty("proof").EnumerateArray().Select(h => Convert.FromHexString(h.GetString()!)).ToList();
            var proofFile = System.Text.Encoding.UTF8.GetString(Entry(bytes, item.GetProperty("proofFile").GetString()!));
            Assert.Equal(proof, proofFile.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Convert.FromHexString));
            Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyInclusion(Convert.FromHexString(e.GetProperty("hash").GetString()!), item.GetProperty("leafIndex").GetInt64(),
                checkpoint.TreeSize, proof, checkpoint.Root));
            // A read the portal hid from the log would need a proof for another leaf: the same proof fails for it.
            Assert.False(MerkleTree.VerifyInclusion(SHA256.HashData([1]), item.GetProperty("leafIndex").GetInt64(), checkpoint.TreeSize, proof, checkpoint.Root).Verified);
        }
        Assert.Contains("gp audit verify-proof", System.Text.Encoding.UTF8.GetString(Entry(bytes, "README.txt")), StringComparison.Ordinal);
    }

    private static async Task<(byte[] Bytes, ExportReceipt Receipt)> ExportAsync(TestDatabase db, long subjectId, string reference, Actor actor)
    {
        var export = db.Get<SubjectExport>();
        var request = await export.FindAsync(subjectId, reference, Cancellation);
        using var output = new MemoryStream();
        var receipt = await export.WriteAsync(subjectId, request, output, actor, Cancellation);
        return (output.ToArray(), receipt);
    }

    /// <summary>The archive's JSON files parsed, by name, in the archive's order (README.txt as an empty placeholder).</summary>
    private static Dictionary<string, JsonElement> Read(byte[] bytes)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        return zip.Entries.ToDictionary(
            entry => entry.FullName,
            entry => entry.FullName.EndsWith(".json", StringComparison.Ordinal)
                ? JsonDocument.Parse(Entry(bytes, entry.FullName)).RootElement.Clone()
                : default);
    }

    private static byte[] Entry(byte[] archive, string name)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        using var stream = zip.GetEntry(name)!.Open();
        using var content = new MemoryStream();
        stream.CopyTo(content);
        return content.ToArray();
    }

    /// <summary>An output that tells the test how much was written after each write (and may fail it, as a closed browser does).</summary>
    private sealed class ObservedStream(Func<long, Task> afterWrite) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) =>
            throw new InvalidOperationException("Synchronous writes are not allowed, as on Kestrel.");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written += buffer.Length;
            await afterWrite(_written);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed, as on Kestrel.");

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
