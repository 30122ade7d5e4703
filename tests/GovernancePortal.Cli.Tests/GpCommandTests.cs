using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Demo;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Cli.Tests;

public sealed class GpCommandTests : DatabaseTests
{
    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<Run> GpAsync(IEnumerable<KeyValuePair<string, string?>> settings, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var exitCode = await GovernancePortal.Cli.GpCommand.RunAsync(args, output, error, configuration);
        return new Run(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The embedded default: SQLite and the master key file under Storage:DataFolder.</summary>
    private static Dictionary<string, string?> KeyFileSettings(TestDatabase db) => new()
    {
        ["Database:Provider"] = "Sqlite",
        ["ConnectionStrings:Portal"] = db.ConnectionString,
        ["Storage:DataFolder"] = db.Folder,
    };

    private static Dictionary<string, string?> WithMasterKeys(TestDatabase db, MasterKey current, params MasterKey[] retired) =>
        new(db.Configuration)
        {
            ["Encryption:MasterKey"] = current.ToBase64(),
            ["Encryption:RetiredMasterKeys"] = string.Join(',', retired.Select(key => key.ToBase64())),
        };

    /// <summary>Every payload of alice's demo records, opened with <paramref name="masterKeys"/> alone.</summary>
    private static async Task<List<string?>> AlicesPayloadsAsync(TestDatabase db, MasterKeyRing masterKeys)
    {
        await using var services = db.BuildServices(masterKeys);
        var alice = await services.SubjectByExternalIdAsync(DemoData.FindUser("alice@example.com")!.ExternalId);
        var payloads = new List<string?>();
        await using var connection = await services.GetRequiredService<ConnectionFactory>().OpenAsync(Cancellation);
        foreach (var program in await services.GetRequiredService<ProgramQueries>().ListAsync(Cancellation))
            payloads.AddRange((await services.NewestRecordsAsync(alice!.Id, program.Id, 100_000)).Select(r => r.Payload));
        return payloads;
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Migrate_Twice_SaysTheSchemaIsUpToDateTheSecondTime(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);

        var first = await GpAsync(db.Configuration, "migrate");
        var second = await GpAsync(db.Configuration, "migrate");

        Assert.Equal((0, ""), (first.ExitCode, first.Error));
        Assert.Matches(@"^applied [1-9]\d* migration\(s\)$", first.Output.Trim());
        Assert.Equal((0, "schema is up to date", ""), (second.ExitCode, second.Output.Trim(), second.Error));
        Assert.Empty(await db.Get<SchemaMigrator>().PendingAsync(Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SeedDemo_Twice_LoadsOnceThenChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);

        var first = await GpAsync(db.Configuration, "seed-demo");
        var payloads = await AlicesPayloadsAsync(db, db.Settings.MasterKeys);
        var second = await GpAsync(db.Configuration, "seed-demo");

        Assert.Equal((0, "demo data loaded", ""), (first.ExitCode, first.Output.Trim(), first.Error));
        Assert.Equal((0, "demo data was already there; nothing changed", ""), (second.ExitCode, second.Output.Trim(), second.Error));
        Assert.NotEmpty(payloads);
        Assert.Equal(payloads, await AlicesPayloadsAsync(db, db.Settings.MasterKeys));
    }

    [Fact]
    public async Task KeysRotate_WithTheKeyFile_PrintsTheNewKeyIdAndRecordsStillOpen()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite, migrate: false);
        var settings = KeyFileSettings(db);
        var keyFile = Path.Combine(db.Folder, MasterKeyRing.KeyFileName);
        Assert.Equal(0, (await GpAsync(settings, "seed-demo")).ExitCode);
        var before = MasterKeyRing.FromKeyFile(keyFile);
        var payloads = await AlicesPayloadsAsync(db, before);

        var rotate = await GpAsync(settings, "keys", "rotate");

        var after = MasterKeyRing.FromKeyFile(keyFile);
        Assert.Equal((0, ""), (rotate.ExitCode, rotate.Error));
        Assert.NotEqual(before.Current.Id, after.Current.Id);
        Assert.Empty(after.Retired);
        Assert.Matches($@"^new master key {after.Current.Id} written to .*{MasterKeyRing.KeyFileName}; re-wrapped [1-9]\d* data key\(s\)$", rotate.Output.Trim());
        Assert.DoesNotContain(null, payloads);
        Assert.Equal(payloads, await AlicesPayloadsAsync(db, after));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task KeysRotate_WithConfiguredKeys_RewrapsUnderTheCurrentKeySoTheOldOneCanGo(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, migrate: false);
        var oldKey = MasterKey.Generate();
        var newKey = MasterKey.Generate();
        Assert.Equal(0, (await GpAsync(WithMasterKeys(db, oldKey), "seed-demo")).ExitCode);
        var payloads = await AlicesPayloadsAsync(db, new MasterKeyRing(oldKey));

        var rotate = await GpAsync(WithMasterKeys(db, newKey, oldKey), "keys", "rotate");

        Assert.Equal((0, ""), (rotate.ExitCode, rotate.Error));
        Assert.Matches($@"^re-wrapped [1-9]\d* data key\(s\) under master key {newKey.Id}\n.*RetiredMasterKeys can be removed$", rotate.Output.Trim());
        Assert.Equal(payloads, await AlicesPayloadsAsync(db, new MasterKeyRing(newKey)));
    }

    private static async Task AppendEventsAsync(TestDatabase db, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
            await db.Get<AuditLog>().AppendAsync(scope, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "test.appended", Detail: $"event {i}"));
            await scope.CommitAsync();
        }
    }

    /// <summary>The <c>name value</c> lines that <c>gp audit proof</c> and <c>gp audit consistency</c> print before their proof lines.</summary>
    private static Dictionary<string, string> Fields(Run run) =>
        run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', 2))
            .Where(parts => parts[0] != "proof").ToDictionary(parts => parts[0], parts => parts[1]);

    private static string[] ProofLines(Run run) =>
        run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith("proof ", StringComparison.Ordinal)).Select(line => line[6..]).ToArray();

    private static string Tamper(string hex) => (hex[0] == '0' ? "1" : "0") + hex[1..];

    [Theory, MemberData(nameof(Engines))]
    public async Task AuditProof_VerifiesOfflineWithVerifyProof_AndATamperedCopyFails(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 11);
        var file = Path.Combine(db.Folder, "proof.txt");
        await using var connection = await db.OpenAsync();
        var events = await connection.AuditEventsAsync();

        var proof = await GpAsync(db.Configuration, "audit", "proof", "--seq", "6", "--size", "11", "--out", file);

        Assert.Equal((0, ""), (proof.ExitCode, proof.Error));
        var fields = Fields(proof);
        Assert.Equal(("6", "5", "11", events[5].Hash), (fields["seq"], fields["index"], fields["size"], fields["leaf"]));
        Assert.Equal(string.Concat(ProofLines(proof).Select(line => line + "\n")), await File.ReadAllTextAsync(file, Cancellation));
        Assert.Equal(4, ProofLines(proof).Length);

        Task<Run> VerifyAsync(string leaf, string index, string size, string root) =>
            GpAsync([], "audit", "verify-proof", "--leaf", leaf, "--index", index, "--size", size, "--root", root, "--proof", file);
        var ok = await VerifyAsync(fields["leaf"], "5", "11", fields["root"]);
        Assert.Equal((0, "ok", ""), (ok.ExitCode, ok.Output.Trim(), ok.Error));

        Run[] tampered =
        [
            await VerifyAsync(Tamper(fields["leaf"]), "5", "11", fields["root"]),
            await VerifyAsync(events[4].Hash, "5", "11", fields["root"]),
            await VerifyAsync(fields["leaf"], "4", "11", fields["root"]),
            await VerifyAsync(fields["leaf"], "5", "11", Tamper(fields["root"])),
            await VerifyAsync(fields["leaf"], "5", "20", fields["root"]),
        ];
        await File.WriteAllLinesAsync(file, ProofLines(proof).Select((line, i) => i == 2 ? Tamper(line) : line), Cancellation);
        var alteredFile = await VerifyAsync(fields["leaf"], "5", "11", fields["root"]);
        await File.WriteAllLinesAsync(file, ProofLines(proof)[..3], Cancellation);
        var truncatedFile = await VerifyAsync(fields["leaf"], "5", "11", fields["root"]);
        await File.WriteAllLinesAsync(file, [.. ProofLines(proof)[..3], "not a hash"], Cancellation);
        var garbledFile = await VerifyAsync(fields["leaf"], "5", "11", fields["root"]);

        Assert.All([.. tampered, alteredFile, truncatedFile, garbledFile], run =>
        {
            Assert.Equal((1, ""), (run.ExitCode, run.Output));
            Assert.StartsWith("gp: the proof does not verify: ", Assert.Single(run.ErrorLines));
        });
        Assert.Equal("gp: the proof does not verify: the proof has fewer hashes than leaf 5 of a tree of size 11 needs", truncatedFile.ErrorLines[0]);
        Assert.EndsWith("line 4 of " + file + " is not a hash of 64 hex digits", garbledFile.ErrorLines[0]);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AuditConsistency_VerifiesOfflineWithVerifyConsistency_AndARewrittenHistoryFails(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 13);
        var file = Path.Combine(db.Folder, "consistency.txt");

        var proof = await GpAsync(db.Configuration, "audit", "consistency", "--old-size", "6", "--new-size", "13", "--out", file);

        Assert.Equal((0, ""), (proof.ExitCode, proof.Error));
        var fields = Fields(proof);
        Assert.Equal(("6", "13"), (fields["old-size"], fields["new-size"]));
        Assert.Equal(ProofLines(proof), File.ReadAllLines(file));

        Task<Run> VerifyAsync(string oldSize, string oldRoot, string newSize, string newRoot) =>
            GpAsync([], "audit", "verify-consistency", "--old-size", oldSize, "--old-root", oldRoot, "--new-size", newSize, "--new-root", newRoot, "--proof", file);
        var ok = await VerifyAsync("6", fields["old-root"], "13", fields["new-root"]);
        Assert.Equal((0, "ok", ""), (ok.ExitCode, ok.Output.Trim(), ok.Error));

        Run[] tampered =
        [
            await VerifyAsync("6", Tamper(fields["old-root"]), "13", fields["new-root"]),
            await VerifyAsync("6", fields["old-root"], "13", Tamper(fields["new-root"])),
            await VerifyAsync("5", fields["old-root"], "13", fields["new-root"]),
        ];
        await File.WriteAllLinesAsync(file, [.. ProofLines(proof), fields["old-root"]], Cancellation);
        var extendedFile = await VerifyAsync("6", fields["old-root"], "13", fields["new-root"]);

        Assert.All([.. tampered, extendedFile], run =>
        {
            Assert.Equal((1, ""), (run.ExitCode, run.Output));
            Assert.StartsWith("gp: the proof does not verify: ", Assert.Single(run.ErrorLines));
        });
        Assert.Equal("gp: the proof does not verify: the proof does not lead to the old root", tampered[0].ErrorLines[0]);
    }

    [Fact]
    public async Task AuditProof_BeyondTheLogsHead_ExitsWith2NamingTheSize()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);
        await AppendEventsAsync(db, 2);

        var run = await GpAsync(db.Configuration, "audit", "proof", "--seq", "1", "--size", "3");

        Assert.Equal((2, ""), (run.ExitCode, run.Output));
        Assert.Equal("gp: The log has 2 events, fewer than the tree size 3.", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task AuditVerify_TheDocumentsWorkedExample_IsOk()
    {
        // docs/audit-log.md, "Merkle tree and proofs": the values an auditor copies from the document verify as printed there.
        var folder = Directory.CreateTempSubdirectory("gp-proof-").FullName;
        try
        {
            var inclusion = Path.Combine(folder, "proof.txt");
            var consistency = Path.Combine(folder, "consistency.txt");
            await File.WriteAllTextAsync(inclusion, "79690fba9c8ebdb67574964871b3f6e0609597065b6baf1e3b1d6e714093ab4f\n9208605b47a1473dde70eb788ee66f1084653292fdf365e942f2dd980afc27a5\n", Cancellation);
            await File.WriteAllTextAsync(consistency, "9208605b47a1473dde70eb788ee66f1084653292fdf365e942f2dd980afc27a5\n", Cancellation);
            const string Root2 = "36f0c047fcddc75752441206e5b815dfd138090d40550b174ed2bd499e366b33";
            const string Root3 = "01a48b3a7620e1a4aeafb25d2895217505bedc8b7fb753de2f7e31dc937d7066";

            var proof = await GpAsync([], "audit", "verify-proof", "--leaf", "f769846ca3882820c046fd8ca5df4e4bb54d29774ebde6efbc519b5070fadcd3",
                "--index", "0", "--size", "3", "--root", Root3, "--proof", inclusion);
            var extension = await GpAsync([], "audit", "verify-consistency", "--old-size", "2", "--old-root", Root2, "--new-size", "3", "--new-root", Root3, "--proof", consistency);

            Assert.Equal((0, "ok", ""), (proof.ExitCode, proof.Output.Trim(), proof.Error));
            Assert.Equal((0, "ok", ""), (extension.ExitCode, extension.Output.Trim(), extension.Error));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("verify-proof", "--leaf", "abc", "--index", "0", "--size", "1", "--root", "abc", "--proof", "p.txt")]
    [InlineData("verify-proof", "--index", "0")]
    [InlineData("verify-consistency", "--old-size", "-1", "--old-root", "00", "--new-size", "2", "--new-root", "00", "--proof", "p.txt")]
    public async Task AuditVerify_WithMalformedArguments_ExitsWith2AndItsUsage(params string[] args)
    {
        var run = await GpAsync([], ["audit", .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"gp: usage: gp audit {args[0]} ", Assert.Single(run.ErrorLines));
    }

    [Theory]
    [InlineData("--records", "10")]
    [InlineData("--batch", "0")]
    [InlineData("--engine", "oracle")]
    [InlineData("--records")]
    public async Task BenchPurge_WithMalformedArguments_ExitsWith2AndItsUsage(params string[] args)
    {
        var run = await GpAsync([], ["bench", "purge", .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("gp: usage: gp bench purge ", Assert.Single(run.ErrorLines));
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task UnknownCommand_ExitsWith2AndPrintsTheUsage()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);

        var run = await GpAsync(db.Configuration, "frobnicate", "--now");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("gp: unknown command 'frobnicate --now'", run.Error);
        Assert.Contains("usage: gp <command>", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task NoCommand_ExitsWith2AndPrintsTheUsage()
    {
        var run = await GpAsync([]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("usage: gp <command>", run.Output);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("seed-demo")]
    public async Task UnknownProvider_ExitsWith2AndOneLineNamingTheSetting(string command)
    {
        var run = await GpAsync([KeyValuePair.Create("Database:Provider", (string?)"Oracle")], command);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("gp: ", line);
        Assert.Contains("Database:Provider", line);
        Assert.Contains("Oracle", line);
    }

    [Fact]
    public async Task Postgres_WithoutMasterKey_ExitsWith2AndOneLineNamingTheSetting()
    {
        var run = await GpAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Portal"] = "Host=127.0.0.1;Port=1;Username=gp",
        }, "migrate");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Encryption:MasterKey", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task Postgres_WithoutConnectionStringOrMasterKeyAndABadLimit_NamesEveryProblemInOneLine()
    {
        var run = await GpAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["Collection:RateLimit:Burst"] = "lots",
        }, "migrate");

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("ConnectionStrings:Portal", line);
        Assert.Contains("Encryption:MasterKey", line);
        Assert.Contains("Collection:RateLimit:Burst", line);
    }

    [Fact]
    public async Task DeveloperSignInSetting_IsTheWebHostsRule_AndDoesNotStopGp()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);

        var run = await GpAsync(new Dictionary<string, string?>(KeyFileSettings(db)) { ["Authentication:DevSignIn:Enabled"] = "true" }, "migrate");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("seed-demo")]
    [InlineData("keys", "rotate")]
    public async Task UnreachablePostgres_ExitsNonZeroWithOneLineAndNoStackTrace(params string[] command)
    {
        var run = await GpAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            // Nothing listens on port 1: the connection is refused at once.
            ["ConnectionStrings:Portal"] = "Host=127.0.0.1;Port=1;Username=gp;Password=secret;Timeout=5",
            ["Encryption:MasterKey"] = MasterKey.Generate().ToBase64(),
        }, command);

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("gp: ", line);
        Assert.DoesNotContain("Exception", line);
        Assert.DoesNotContain("secret", line);
        Assert.Equal("", run.Output);
    }
}
