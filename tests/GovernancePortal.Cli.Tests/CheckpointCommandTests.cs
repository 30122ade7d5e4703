using System.Text;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.Configuration;

namespace GovernancePortal.Cli.Tests;

/// <summary>
/// <c>gp audit checkpoint</c> and the offline checks against signed checkpoints: an auditor who kept an earlier
/// checkpoint proves that today's extends it, and a checkpoint over a rewritten log is caught.
/// </summary>
public sealed class CheckpointCommandTests : DatabaseTests
{
    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public string ErrorLine => Assert.Single(Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task<Run> GpAsync(IEnumerable<KeyValuePair<string, string?>> settings, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var exitCode = await GpCommand.RunAsync(args, output, error, configuration);
        return new Run(exitCode, output.ToString(), error.ToString());
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

    /// <summary>What a portal whose log was rewritten would publish: a well-signed checkpoint whose root is not the honest log's.</summary>
    private static async Task<string> SignedForgeryAsync(TestDatabase db, Checkpoint honest)
    {
        var forged = honest with { RootHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("rewritten"))) };
        var signature = await db.Get<SigningKeys>().SignAsync(Encoding.UTF8.GetBytes(forged.Body), Cancellation);
        return (forged with { KeyId = signature.KeyId, Signature = signature.Der }).Note;
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task KeptCheckpoint_IsProvenExtendedByTodays_AndAForgedOneIsDetected(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 5);
        string File(string name) => Path.Combine(db.Folder, name);

        var yesterday = await GpAsync(db.Configuration, "audit", "checkpoint", "--out", File("old.txt"));
        await AppendEventsAsync(db, 9);
        var today = await GpAsync(db.Configuration, "audit", "checkpoint", "--out", File("new.txt"));
        var keys = await GpAsync(db.Configuration, "keys", "public", "--out", File("keys.pem"));
        var old = Checkpoint.Parse(yesterday.Output);
        var current = Checkpoint.Parse(today.Output);
        var proof = await GpAsync(db.Configuration, "audit", "consistency", "--old-size", $"{old.TreeSize}", "--new-size", $"{current.TreeSize}", "--out", File("proof.txt"));
        Assert.All([yesterday, today, keys, proof], run => Assert.Equal((0, ""), (run.ExitCode, run.Error)));
        Assert.Equal(yesterday.Output, await System.IO.File.ReadAllTextAsync(File("old.txt"), Cancellation));

        Task<Run> ExtendsAsync(string oldFile, string newFile) =>
            GpAsync([], "audit", "verify-consistency", "--old", File(oldFile), "--new", File(newFile), "--proof", File("proof.txt"), "--public-key", File("keys.pem"));
        var ok = await ExtendsAsync("old.txt", "new.txt");
        Assert.Equal((0, ""), (ok.ExitCode, ok.Error));
        Assert.Equal($"ok: the checkpoint of size {current.TreeSize} extends the one of size {old.TreeSize} ({old.Origin})", ok.Output.Trim());

        await System.IO.File.WriteAllTextAsync(File("forged.txt"), await SignedForgeryAsync(db, current), Cancellation);
        await System.IO.File.WriteAllTextAsync(File("edited.txt"), current.Note.Replace(current.Body.Split('\n')[2], Convert.ToBase64String(new byte[32]), StringComparison.Ordinal), Cancellation);
        var forged = await ExtendsAsync("old.txt", "forged.txt");
        var edited = await ExtendsAsync("old.txt", "edited.txt");
        var swapped = await ExtendsAsync("new.txt", "old.txt");

        Assert.Equal((1, ""), (forged.ExitCode, forged.Output));
        Assert.Equal("gp: the new checkpoint does not extend the old one: the proof does not lead to the new root", forged.ErrorLine);
        Assert.Equal((1, ""), (edited.ExitCode, edited.Output));
        Assert.StartsWith("gp: the new checkpoint's signature does not verify with key ", edited.ErrorLine);
        Assert.Equal(1, swapped.ExitCode);
        Assert.Contains("swap --old and --new", swapped.ErrorLine);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task VerifyCheckpoint_AcceptsTheSignedNote_AndRefusesAnEditAnotherKeyAndGarbage(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 3);
        string File(string name) => Path.Combine(db.Folder, name);
        var checkpoint = Checkpoint.Parse((await GpAsync(db.Configuration, "audit", "checkpoint", "--out", File("cp.txt"))).Output);
        await GpAsync(db.Configuration, "keys", "public", "--out", File("keys.pem"));
        using var stranger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await System.IO.File.WriteAllTextAsync(File("stranger.pem"), System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", stranger.ExportSubjectPublicKeyInfo()), Cancellation);
        await System.IO.File.WriteAllTextAsync(File("bigger.txt"), checkpoint.Note.Replace($"\n{checkpoint.TreeSize}\n", $"\n{checkpoint.TreeSize + 1}\n", StringComparison.Ordinal), Cancellation);
        await System.IO.File.WriteAllTextAsync(File("garbage.txt"), "hello\n", Cancellation);

        Task<Run> VerifyAsync(string file, string keys = "keys.pem") => GpAsync([], "audit", "verify-checkpoint", File(file), "--public-key", File(keys));
        var ok = await VerifyAsync("cp.txt");
        var bigger = await VerifyAsync("bigger.txt");
        var otherKey = await VerifyAsync("cp.txt", "stranger.pem");
        var garbage = await VerifyAsync("garbage.txt");
        var noKeys = await VerifyAsync("cp.txt", "garbage.txt");
        var usage = await GpAsync([], "audit", "verify-checkpoint", "--public-key", File("keys.pem"));

        Assert.Equal((0, ""), (ok.ExitCode, ok.Error));
        Assert.StartsWith($"ok: checkpoint of {checkpoint.Origin}, size {checkpoint.TreeSize}, root {checkpoint.RootHash}", ok.Output);
        Assert.Equal(1, bigger.ExitCode);
        Assert.Contains("signature does not verify", bigger.ErrorLine);
        Assert.Equal(1, otherKey.ExitCode);
        Assert.Contains($"signed by key {checkpoint.KeyId}, which is not in", otherKey.ErrorLine);
        Assert.Equal(1, garbage.ExitCode);
        Assert.Contains("not a checkpoint", garbage.ErrorLine);
        Assert.Equal(2, noKeys.ExitCode);
        Assert.Equal(2, usage.ExitCode);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task VerifyProof_AgainstASignedCheckpoint_AcceptsTheEventAndRefusesAnother(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await AppendEventsAsync(db, 7);
        string File(string name) => Path.Combine(db.Folder, name);
        var checkpoint = Checkpoint.Parse((await GpAsync(db.Configuration, "audit", "checkpoint", "--out", File("cp.txt"))).Output);
        await GpAsync(db.Configuration, "keys", "public", "--out", File("keys.pem"));
        var proof = await GpAsync(db.Configuration, "audit", "proof", "--seq", "4", "--size", $"{checkpoint.TreeSize}", "--out", File("proof.txt"));
        await using var connection = await db.OpenAsync();
        var events = await connection.AuditEventsAsync();

        Task<Run> VerifyAsync(string leaf, string index) =>
            GpAsync([], "audit", "verify-proof", "--leaf", leaf, "--index", index, "--checkpoint", File("cp.txt"), "--public-key", File("keys.pem"), "--proof", File("proof.txt"));
        var ok = await VerifyAsync(events[3].Hash, "3");
        var other = await VerifyAsync(events[4].Hash, "3");

        Assert.Equal(0, proof.ExitCode);
        Assert.Equal((0, ""), (ok.ExitCode, ok.Error));
        Assert.StartsWith("ok: event 4 is in the signed checkpoint", ok.Output);
        Assert.Equal((1, "gp: the proof does not verify: the proof does not lead to the given root"), (other.ExitCode, other.ErrorLine));
    }

    [Theory]
    [InlineData("Audit:Origin", "two words", "Audit:Origin must be one word")]
    [InlineData("Audit:Origin", "a+b", "Audit:Origin must be one word")]
    [InlineData("Audit:CheckpointEvery", "0", "Audit:CheckpointEvery must be a whole number")]
    public async Task BadAuditSetting_ExitsWith2AndOneLineNamingIt(string setting, string value, string problem)
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);

        var run = await GpAsync(new Dictionary<string, string?>(db.Configuration) { [setting] = value }, "audit", "checkpoint");

        Assert.Equal((2, ""), (run.ExitCode, run.Output));
        Assert.Contains(problem, run.ErrorLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredOrigin_IsTheFirstLineOfTheCheckpoint()
    {
        await using var db = await TestDatabase.CreateAsync(Engine.Sqlite);

        var run = await GpAsync(new Dictionary<string, string?>(db.Configuration) { ["Audit:Origin"] = "governance-portal/portal.example.com" }, "audit", "checkpoint");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("governance-portal/portal.example.com\n0\n", run.Output, StringComparison.Ordinal);
        Assert.EndsWith("\n\n\u2014 governance-portal/portal.example.com " + run.Output.Split(' ')[^1], run.Output, StringComparison.Ordinal);
    }
}
