using System.Security.Cryptography;
using System.Text;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Erasure;
using GovernancePortal.Requests;
using GovernancePortal.Testing;

namespace GovernancePortal.Cli.Tests;

/// <summary><c>gp receipt verify</c>: offline, from the receipt file and the portal's public key alone.</summary>
public sealed class ReceiptVerifyTests : DatabaseTests
{
    private sealed record Signed(string Folder, string Receipt, string PublicKey, string Text);

    /// <summary>Carol's three records erased after she withdrew: the receipt and the public key, written to files.</summary>
    private static async Task<Signed> ErasureReceiptAsync(TestDatabase db)
    {
        long carol;
        await using (var connection = await db.OpenAsync())
        {
            var now = DateTimeOffset.UtcNow.AddMinutes(-5);
            var program = await connection.ExecuteScalarAsync<long>("""
                INSERT INTO programs (key, name, purpose, owner, legal_basis, created_at, updated_at)
                VALUES ('mci', 'MCI', 'testing', 'tests', 'consent', @now, @now) RETURNING id
                """, new { now });
            await connection.ExecuteAsync("""
                INSERT INTO categories (program_id, key, name, sensitivity, retention_days, created_at) VALUES (@program, 'events', 'Events', 'high', 30, @now)
                """, new { program, now });
            carol = await connection.ExecuteScalarAsync<long>("INSERT INTO subjects (email, display_name, created_at) VALUES ('carol@example.com', 'Carol', @now) RETURNING id", new { now });
            var category = await connection.ExecuteScalarAsync<long>("SELECT id FROM categories WHERE key = 'events'");
            await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync();
            await db.Get<RecordStore>().AddAsync(scope, [.. Enumerable.Range(0, 3).Select(i => new NewRecord(program, category, carol, now.AddSeconds(i), "{}"))]);
            await scope.CommitAsync();
        }
        var outcome = await db.Get<Withdrawals>().WithdrawAsync(carol, "mci", null, new Actor("carol@example.com", [Roles.Employee], carol), Cancellation);
        await db.Get<ErasureSweep>().RunAsync(Cancellation);
        var text = (await db.Get<RequestDesk>().GetForSubjectAsync(carol, outcome.FollowUp.Reference, Cancellation)).Receipt!;
        var receipt = Path.Combine(db.Folder, "receipt.txt");
        var publicKey = Path.Combine(db.Folder, "portal.pem");
        await File.WriteAllTextAsync(receipt, text, Cancellation);
        await File.WriteAllTextAsync(publicKey, string.Concat((await db.Get<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem)), Cancellation);
        return new Signed(db.Folder, receipt, publicKey, text);
    }

    private static async Task<(int ExitCode, string Output, string Error)> GpAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await GpCommand.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Verify_AValidReceipt_ExitsZeroWithItsSummary(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var signed = await ErasureReceiptAsync(db);

        var (exitCode, output, error) = await GpAsync("receipt", "verify", signed.Receipt, "--public-key", signed.PublicKey);

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        Assert.StartsWith("ok: ERA-", output);
        Assert.Contains("3 record(s) erased in 1 category, 1 data key(s) destroyed", output);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Verify_AChangedCount_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var signed = await ErasureReceiptAsync(db);
        var changed = signed.Text.Replace("\"records\":3", "\"records\":30").Replace("\"totalRecords\":3", "\"totalRecords\":30");
        Assert.NotEqual(signed.Text, changed);
        await File.WriteAllTextAsync(signed.Receipt, changed, Cancellation);

        var (exitCode, output, error) = await GpAsync("receipt", "verify", signed.Receipt, "--public-key", signed.PublicKey);

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        Assert.Contains("does not match the receipt", error);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Verify_AnotherKey_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var signed = await ErasureReceiptAsync(db);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerPem = Path.Combine(signed.Folder, "stranger.pem");
        await File.WriteAllTextAsync(strangerPem, PemEncoding.WriteString("PUBLIC KEY", stranger.ExportSubjectPublicKeyInfo()), Cancellation);

        var (exitCode, _, error) = await GpAsync("receipt", "verify", signed.Receipt, "--public-key", strangerPem);

        Assert.Equal(1, exitCode);
        Assert.Contains("not in the public key file", error);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Verify_AForgedSignature_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var signed = await ErasureReceiptAsync(db);
        var lines = signed.Text.Split('\n');
        var keyId = lines[2].Split(' ')[2];
        // Signed by someone else's key but claiming the portal's key id, over a receipt with a changed count.
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = lines[1].Replace("\"totalRecords\":3", "\"totalRecords\":3 ");
        var forged = Convert.ToBase64String(forger.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        await File.WriteAllTextAsync(signed.Receipt, $"{lines[0]}\n{body}\nsignature {SigningKeys.Algorithm} {keyId} {forged}\n", Cancellation);

        var (exitCode, _, error) = await GpAsync("receipt", "verify", signed.Receipt, "--public-key", signed.PublicKey);

        Assert.Equal(1, exitCode);
        Assert.Contains("does not match the receipt", error);
    }

    [Fact]
    public async Task Verify_WithoutAKeyOrAFile_IsAUsageError()
    {
        var missingKey = await GpAsync("receipt", "verify", "receipt.txt");
        var missingFile = await GpAsync("receipt", "verify", Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.txt"), "--public-key", "key.pem");
        var notAReceipt = Path.GetTempFileName();
        await File.WriteAllTextAsync(notAReceipt, "hello\n", Cancellation);
        var garbage = await GpAsync("receipt", "verify", notAReceipt, "--public-key", notAReceipt);
        File.Delete(notAReceipt);

        Assert.Equal(2, missingKey.ExitCode);
        Assert.Contains("usage: gp receipt verify", missingKey.Error);
        Assert.Equal(2, missingFile.ExitCode);
        Assert.Equal(1, garbage.ExitCode);
        Assert.Contains("not an erasure receipt", garbage.Error);
    }
}
