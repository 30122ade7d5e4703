using System.Security.Cryptography;
using System.Text;
using Dapper;
using GovernancePortal.Crypto;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Crypto;

public sealed class SigningKeysTests : DatabaseTests
{
    private static readonly byte[] Checkpoint = Encoding.UTF8.GetBytes("governance-portal/audit\n12\nroot\n");

    [Theory, MemberData(nameof(Engines))]
    public async Task Sign_CreatesTheFirstKey_AndTheSignatureVerifiesOfflineWithItsPem(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var keys = db.Services.GetRequiredService<SigningKeys>();

        var signature = await keys.SignAsync(Checkpoint, Cancellation);
        var again = await keys.SignAsync(Checkpoint, Cancellation);

        var published = Assert.Single(await keys.PublicKeysAsync(Cancellation));
        Assert.Equal(published.KeyId, signature.KeyId);
        Assert.Equal(published.KeyId, again.KeyId);
        Assert.Equal(published.KeyId, SigningKeys.KeyIdOf(published.Pem));
        Assert.Null(published.RetiredAt);
        Assert.True(SigningKeys.Verify(published.Pem, Checkpoint, signature.Der));
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", published.Pem, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Verify_RefusesOtherBytesAnotherKeyAndGarbage(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var keys = db.Services.GetRequiredService<SigningKeys>();
        var signature = await keys.SignAsync(Checkpoint, Cancellation);
        var pem = (await keys.PublicKeysAsync(Cancellation)).Single().Pem;
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerPem = PemEncoding.WriteString("PUBLIC KEY", stranger.ExportSubjectPublicKeyInfo());
        var flipped = Checkpoint.ToArray();
        flipped[^2] ^= 1;

        Assert.False(SigningKeys.Verify(pem, flipped, signature.Der));
        Assert.False(SigningKeys.Verify(strangerPem, Checkpoint, signature.Der));
        Assert.False(SigningKeys.Verify(pem, Checkpoint, [.. signature.Der[..^1], (byte)(signature.Der[^1] ^ 1)]));
        Assert.False(SigningKeys.Verify("not a key", Checkpoint, signature.Der));
        Assert.Null(SigningKeys.KeyIdOf("not a key"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Rotate_SignsWithTheNewKey_AndTheRetiredKeyStillVerifiesWhatItSigned(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var keys = db.Services.GetRequiredService<SigningKeys>();
        var before = await keys.SignAsync(Checkpoint, Cancellation);

        await using var otherNode = db.BuildServices();
        var rotated = await otherNode.GetRequiredService<SigningKeys>().RotateAsync(new GovernancePortal.Access.Actor("gp (root)", []), Cancellation);
        var after = await keys.SignAsync(Checkpoint, Cancellation);

        var published = await keys.PublicKeysAsync(Cancellation);
        Assert.Equal(2, published.Count);
        Assert.NotEqual(before.KeyId, after.KeyId);
        Assert.Equal(rotated.KeyId, after.KeyId);
        var old = published.Single(k => k.KeyId == before.KeyId);
        Assert.NotNull(old.RetiredAt);
        Assert.True(SigningKeys.Verify(old.Pem, Checkpoint, before.Der));
        Assert.True(SigningKeys.Verify(rotated.Pem, Checkpoint, after.Der));
        Assert.False(SigningKeys.Verify(rotated.Pem, Checkpoint, before.Der));
        var bundle = SigningKeys.ParsePublicKeys("# both keys\n" + string.Concat(published.Select(k => k.Pem)));
        Assert.Equal(published.Select(k => k.KeyId).Order(), bundle.Keys.Order());
        Assert.True(SigningKeys.Verify(bundle[before.KeyId], Checkpoint, before.Der));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task MasterKeyRotation_ResealsTheSigningKeys_SoTheyOpenWithTheNewMasterKeyAlone(Engine engine)
    {
        var oldMaster = MasterKey.Generate();
        await using var db = await TestDatabase.CreateAsync(engine, masterKeys: new MasterKeyRing(oldMaster));
        var first = await db.Services.GetRequiredService<SigningKeys>().SignAsync(Checkpoint, Cancellation);
        var newMaster = MasterKey.Generate();
        await using (var rotating = db.BuildServices(new MasterKeyRing(newMaster, [oldMaster])))
            await rotating.GetRequiredService<MasterKeyRotation>().RewrapAllAsync(Cancellation);

        await using var newAlone = db.BuildServices(new MasterKeyRing(newMaster));
        var signature = await newAlone.GetRequiredService<SigningKeys>().SignAsync(Checkpoint, Cancellation);

        Assert.Equal(first.KeyId, signature.KeyId);
        await using var connection = await db.OpenAsync();
        Assert.Equal(newMaster.Id, await connection.ExecuteScalarAsync<string>("SELECT master_key_id FROM signing_keys"));
        var pem = (await newAlone.GetRequiredService<SigningKeys>().PublicKeysAsync(Cancellation)).Single().Pem;
        Assert.True(SigningKeys.Verify(pem, Checkpoint, signature.Der));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ThePrivateKey_IsStoredSealed_NeverInTheClear(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var keys = db.Services.GetRequiredService<SigningKeys>();
        await keys.SignAsync(Checkpoint, Cancellation);

        await using var connection = await db.OpenAsync();
        var stored = await connection.QuerySingleAsync<byte[]>("SELECT sealed_private_key FROM signing_keys");
        using var probe = ECDsa.Create();
        Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(stored, out _));
        Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(stored.AsSpan(Aead.NonceSize), out _));
    }
}
