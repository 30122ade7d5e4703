using System.Text;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Audit;

/// <summary>Exports of the log and their signed manifests, checked by the offline verifier that auditors run.</summary>
public sealed class AuditExportTests : DatabaseTests
{
    private static readonly Actor Audrey = new("audrey@example.com", [Roles.Auditor, Roles.Employee], 41);

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_Csv_IsTheDocumentedBytes_InSeqOrder_AndAuditedFirst(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 15, 0, 123, TimeSpan.Zero).AddTicks(4560)));
        await using (var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], AuditActions.ProgramPaused,
                Program: "mci", Detail: "Leak \"B\", see ticket\nline two; ünïcode"));
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("system", [], AuditActions.RecordsPurged, Purpose: "", RecordCount: 0));
            await scope.CommitAsync();
        }
        var export = db.Get<AuditExport>();

        var plan = await export.StartAsync(null, null, "csv", Audrey, Cancellation);
        using var output = new MemoryStream();
        var summary = await export.WriteAsync(plan, output, Cancellation);

        var events = await ReadAllAsync(db);
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.Equal(
            "seq,occurredAt,actor,actorRoles,action,subject,program,purpose,detail,recordCount,prevHash,hash\r\n" +
            $"1,\"2026-11-27T09:15:00.1234560Z\",\"priya@example.com\",\"Employee,PrivacyOfficer\",\"program.paused\",,\"mci\",,\"Leak \"\"B\"\", see ticket\nline two; ünïcode\",,\"{AuditChain.GenesisHash}\",\"{events[0].Hash}\"\r\n" +
            $"2,\"2026-11-27T09:15:00.1234560Z\",\"system\",\"\",\"records.purged\",,,\"\",,0,\"{events[0].Hash}\",\"{events[1].Hash}\"\r\n",
            text);
        Assert.Equal(new AuditRange(1, 2), plan.Range);
        Assert.Equal((2L, AuditChain.GenesisHash, events[0].Hash, events[1].Hash, (long)output.Length), (summary.Count, summary.PrevHash, summary.FirstHash, summary.LastHash, summary.Bytes));
        var exported = events[2];
        Assert.Equal((AuditActions.AuditExported, "audrey@example.com", "seq 1-2 as csv", (long?)2), (exported.Action, exported.Actor, exported.Detail, exported.RecordCount));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_Jsonl_WritesTypedValues_OneObjectALine(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AuditSearchTests.AppendAsync(db, 3);
        var export = db.Get<AuditExport>();

        var plan = await export.StartAsync("2", "3", "jsonl", Audrey, Cancellation);
        using var output = new MemoryStream();
        await export.WriteAsync(plan, output, Cancellation);

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        Assert.StartsWith("{\"seq\":2,\"occurredAt\":\"", lines[0]);
        Assert.Contains("\"subject\":null,\"program\":\"mci\",\"purpose\":null,\"detail\":\"pause\",\"recordCount\":null,", lines[0]);
        Assert.Contains("\"recordCount\":3,", lines[1]);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Manifest_IsSignedByThePortalsKey_AndTheVerifierAcceptsItsExport(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AuditSearchTests.AppendAsync(db, 40);
        var export = db.Get<AuditExport>();

        var manifest = await export.ManifestAsync("11", "30", "csv", Audrey, Cancellation);
        var plan = await export.StartAsync("11", "30", "csv", Audrey, Cancellation);
        using var output = new MemoryStream();
        var summary = await export.WriteAsync(plan, output, Cancellation);

        var keys = SigningKeys.ParsePublicKeys(string.Concat((await db.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem)));
        Assert.True(SigningKeys.Verify(keys[manifest.KeyId], manifest.SignedBytes(), Convert.FromBase64String(manifest.Signature)));
        Assert.Equal((11L, 30L, 20L, summary.Sha256, summary.Bytes, 30L), (manifest.From, manifest.To, manifest.Count, manifest.ExportSha256, manifest.ExportBytes, manifest.TreeSize));
        var events = await ReadAllAsync(db);
        Assert.Equal((events[9].Hash, events[10].Hash, events[29].Hash), (manifest.PrevHash, manifest.FirstHash, manifest.LastHash));
        Assert.Equal(Convert.ToHexStringLower(MerkleTree.Root(events.Take(30).Select(e => Convert.FromHexString(e.Hash)).ToList())), manifest.TreeRoot);
        Assert.Contains(events, e => e.Action == AuditActions.AuditManifestSigned && e.Detail == "seq 11-30 as csv" && e.Actor == "audrey@example.com");

        output.Position = 0;
        var verified = await AuditExportVerifier.VerifyAsync(output, AuditExportManifest.Parse(manifest.ToJson()), keys, Cancellation);
        Assert.True(verified.Verified, verified.Message);
        Assert.StartsWith("ok: 20 events, seq 11-30 (csv)", verified.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_ByTimes_IsTheContiguousRunOfEventsInThem(Engine engine)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        await using var db = await TestDatabase.CreateAsync(engine, clock);
        for (var i = 0; i < 6; i++)
        {
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("system", [], AuditActions.RecordsPurged, RecordCount: i));
            await scope.CommitAsync();
            clock.Advance(TimeSpan.FromHours(1));
        }

        var plan = await db.Get<AuditExport>().StartAsync("2026-11-27T10:30:00Z", "2026-11-27T13:00Z", null, Audrey, Cancellation);

        Assert.Equal((new AuditRange(3, 4), AuditExportFormat.Csv), (plan.Range, plan.Format));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Export_BadParameters_AreRefusedWithTheReason_AndNothingIsLogged(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AuditSearchTests.AppendAsync(db, 5);
        var export = db.Get<AuditExport>();

        var refusals = new List<string>();
        foreach (var (from, to, format) in new (string?, string?, string?)[]
                 {
                     ("0", null, null), ("3", "2", null), (null, "6", null), ("7", null, null), ("x", null, null), (null, null, "xml"),
                     ("2030-01-01", null, null), ("-1", null, null),
                 })
            refusals.Add((await Assert.ThrowsAsync<RuleViolation>(() => export.StartAsync(from, to, format, Audrey, Cancellation))).Message);
        var notAuditor = await Assert.ThrowsAsync<RuleViolation>(() => export.StartAsync(null, null, null, new Actor("priya@example.com", [Roles.PrivacyOfficer]), Cancellation));

        Assert.Equal(
        [
            "from is a seq of at least 1 (or a time); 0 is not.", "from must not be after to.", "to is seq 6, but the log ends at seq 5.",
            "from is seq 7, but the log ends at seq 5.", "from is a seq (a whole number) or a UTC time such as 2026-11-27 or 2026-11-27T09:15:00Z; \"x\" is neither.",
            "format is csv or jsonl.", "No event lies in that range.",
            "from is a seq (a whole number) or a UTC time such as 2026-11-27 or 2026-11-27T09:15:00Z; \"-1\" is neither.",
        ], refusals);
        Assert.Contains("auditors", notAuditor.Message);
        Assert.Equal(5, (await ReadAllAsync(db)).Count);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AppendMany_GivesTheSameChainAsAppendingOneByOne(Engine engine)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        await using var one = await TestDatabase.CreateAsync(engine, clock);
        await using var many = await TestDatabase.CreateAsync(engine, clock);
        var entries = Enumerable.Range(1, 25).Select(i => new AuditEntry("dana@example.com", [Roles.DataConsumer, Roles.Employee], AuditActions.RecordsRead,
            SubjectId: i, Program: "mci", Purpose: "model training", Detail: $"categories: keystrokes; grant {i}", RecordCount: i)).ToList();

        await using (var scope = await one.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            foreach (var entry in entries)
                await one.Get<AuditLog>().AppendAsync(scope, entry);
            await scope.CommitAsync();
        }
        IReadOnlyList<AuditEvent> returned;
        await using (var scope = await many.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await many.Get<AuditLog>().AppendAsync(scope, entries[0]);
            returned = await many.Get<AuditLog>().AppendManyAsync(scope, entries[1..]);
            await scope.CommitAsync();
        }

        var expected = await ReadAllAsync(one);
        Assert.Equal(expected.Select(e => e.Hash), (await ReadAllAsync(many)).Select(e => e.Hash));
        Assert.Equal(expected.Skip(1).Select(e => (e.Seq, e.Hash)), returned.Select(e => (e.Seq, e.Hash)));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = many.Get<AuditLog>().AppendManyAsync(null!, [entries[0] with { RecordCount = -1 }]).GetAwaiter().GetResult(); });
    }

    [Fact]
    public void MerkleRootBuilder_GivesTheRecursiveRoot_ForEverySizeTo70()
    {
        var leaves = Enumerable.Range(0, 70).Select(i => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))).ToList();
        for (var size = 0; size <= leaves.Count; size++)
        {
            var builder = new MerkleRootBuilder();
            foreach (var leaf in leaves.Take(size))
                builder.Add(leaf);
            Assert.Equal(Convert.ToHexStringLower(MerkleTree.Root(leaves.Take(size).ToList())), Convert.ToHexStringLower(builder.Root()));
        }
    }

    [Fact]
    public void WorkedExamples_NonAsciiWithALineFeed_AndEmptyStringsWithShellCharacters_HashAsDocumented()
    {
        var two = new AuditEvent
        {
            Seq = 2, OccurredAt = DateTimeOffset.Parse("2026-11-27T09:22:00.1234560Z"), Actor = "dana@example.com", ActorRoles = "DataConsumer,Employee",
            Action = "records.read", SubjectId = 42, Program = "mci", Purpose = "model-training", Detail = "Zoë's café notes\nsecond line", RecordCount = 120,
            PrevHash = "f769846ca3882820c046fd8ca5df4e4bb54d29774ebde6efbc519b5070fadcd3",
        };
        var three = new AuditEvent
        {
            Seq = 3, OccurredAt = DateTimeOffset.Parse("2026-11-27T09:29:00.1234560Z"), Actor = "system", ActorRoles = "", Action = "records.purged",
            Purpose = "", Detail = "mci/keystrokes 3, cost $5 `date` C:\\tmp", RecordCount = 0,
            PrevHash = "b1d53073347a65f9e1d5d82da71818acec76ba2946de93e54889b947efccee21",
        };

        Assert.StartsWith("1:2\n28:2026-11-27T09:22:00.1234560Z\n", AuditChain.CanonicalEncoding(two));
        Assert.Contains("\n30:Zoë's café notes\nsecond line\n3:120\n", AuditChain.CanonicalEncoding(two));
        Assert.Equal("b1d53073347a65f9e1d5d82da71818acec76ba2946de93e54889b947efccee21", AuditChain.ComputeHash(two));
        Assert.Contains("\n6:system\n0:\n14:records.purged\n-\n-\n0:\n39:", AuditChain.CanonicalEncoding(three));
        Assert.Equal("d5e16f9c8cb2c50c93b776c0bafda12ad8655ab6f9bdb85a1ab96104c0bdb852", AuditChain.ComputeHash(three));
        Assert.Throws<ArgumentException>(() => AuditChain.ComputeHash(three with { OccurredAt = three.OccurredAt.AddTicks(3) }));
    }

    private static async Task<IReadOnlyList<AuditEvent>> ReadAllAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return await connection.AuditEventsAsync();
    }
}
