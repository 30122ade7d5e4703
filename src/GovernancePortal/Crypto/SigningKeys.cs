using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Crypto;

/// <summary>A signature by one of the portal's keys: ECDSA P-256 over SHA-256, DER-encoded (RFC 3279), as OpenSSL writes it.</summary>
public sealed record PortalSignature(string KeyId, byte[] Der)
{
    public string Base64 => Convert.ToBase64String(Der);
}

/// <summary>A signing key's public half, for anyone who verifies offline. <see cref="RetiredAt"/> is set once another key replaced it.</summary>
public sealed record SigningPublicKey(string KeyId, string Algorithm, byte[] SubjectPublicKeyInfo, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt)
{
    /// <summary>The key as a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo), which OpenSSL reads.</summary>
    public string Pem => PemEncoding.WriteString("PUBLIC KEY", SubjectPublicKeyInfo) + "\n";
}

/// <summary>
/// The portal's signing keys (docs/signing.md). The current key signs; a rotated key is retired and kept,
/// so everything it signed stays verifiable. Private keys are stored sealed under the master key and only
/// ever opened in this process. The current key is read from the database at every signature, so a rotation
/// on one node holds on every node from its commit.
/// </summary>
public sealed class SigningKeys(ConnectionFactory connections, MasterKeyRing ring, AuditLog audit, TimeProvider time)
{
    public const string Algorithm = "ecdsa-p256-sha256";

    private const string Columns = """
        SELECT id AS KeyId, algorithm AS Algorithm, public_key AS SubjectPublicKeyInfo, created_at AS CreatedAt, retired_at AS RetiredAt
        FROM signing_keys
        """;

    private const string CurrentKey = """
        SELECT id AS KeyId, sealed_private_key AS SealedPrivateKey, master_key_id AS MasterKeyId
        FROM signing_keys WHERE algorithm = @Algorithm AND retired_at IS NULL
        """;

    private const string Insert = """
        INSERT INTO signing_keys (id, algorithm, public_key, sealed_private_key, master_key_id, created_at)
        VALUES (@Id, @Algorithm, @PublicKey, @Sealed, @MasterKeyId, @Now)
        """;

    private const string Retire = "UPDATE signing_keys SET retired_at = @Now WHERE algorithm = @Algorithm AND retired_at IS NULL";

    private const string SealedUnderOtherMaster = """
        SELECT id AS KeyId, sealed_private_key AS SealedPrivateKey, master_key_id AS MasterKeyId
        FROM signing_keys WHERE master_key_id <> @Current
        """;

    private const string Reseal = """
        UPDATE signing_keys SET sealed_private_key = @Sealed, master_key_id = @MasterKeyId
        WHERE id = @Id AND master_key_id = @OldMasterKeyId
        """;

    // Opened private keys by key id and sealing master key; a key's bytes never change.
    private readonly ConcurrentDictionary<(string KeyId, string MasterKeyId), byte[]> _opened = new();

    /// <summary>Signs <paramref name="data"/> with the current key, creating the first key if there is none.</summary>
    public async Task<PortalSignature> SignAsync(byte[] data, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var signature = await SignAsync(scope, data);
        await scope.CommitAsync();
        return signature;
    }

    /// <summary>Signs inside the caller's transaction (a checkpoint and its signature commit together).</summary>
    public async Task<PortalSignature> SignAsync(WriteScope scope, byte[] data)
    {
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.SigningKeys);
        var current = await scope.QuerySingleOrDefaultAsync<SealedRow>(CurrentKey, new { Algorithm })
            ?? await CreateAsync(scope, Actor.System, replaced: null);
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Open(current), out _);
        return new PortalSignature(current.KeyId, key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    /// <summary>Every key the portal has signed with, newest first.</summary>
    public async Task<IReadOnlyList<SigningPublicKey>> PublicKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<SigningPublicKey>(
            new CommandDefinition($"{Columns} ORDER BY created_at DESC, id", cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Retires the current key (kept for verification) and makes a new one current. Returns the new key.</summary>
    public async Task<SigningPublicKey> RotateAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.SigningKeys);
        var replaced = await scope.ExecuteScalarAsync<string?>("SELECT id FROM signing_keys WHERE algorithm = @Algorithm AND retired_at IS NULL", new { Algorithm });
        await scope.ExecuteAsync(Retire, new { Algorithm, Now = StoredTime.Normalize(time.GetUtcNow()) });
        var created = await CreateAsync(scope, actor, replaced);
        await scope.CommitAsync();
        return (await PublicKeysAsync(cancellationToken)).Single(k => k.KeyId == created.KeyId);
    }

    /// <summary>Re-seals every private key under the current master key (part of <c>gp keys rotate</c>). Returns how many.</summary>
    public async Task<int> ResealAllAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.SigningKeys);
        var count = 0;
        foreach (var row in await scope.QueryAsync<SealedRow>(SealedUnderOtherMaster, new { Current = ring.Current.Id }))
        {
            count += await scope.ExecuteAsync(Reseal, new
            {
                Id = row.KeyId,
                Sealed = Seal(ring.Current, row.KeyId, Open(row)),
                MasterKeyId = ring.Current.Id,
                OldMasterKeyId = row.MasterKeyId,
            });
        }
        await scope.CommitAsync();
        return count;
    }

    /// <summary>
    /// Checks a signature offline against a PEM public key (the verifier's side; nothing of the portal's
    /// database is needed). False for a signature by another key, over other bytes, or malformed.
    /// </summary>
    public static bool Verify(string publicKeyPem, byte[] data, byte[] derSignature)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException)
        {
            return false;
        }
        return key.KeySize == 256 && key.VerifyData(data, derSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>A key's id: the first 8 bytes of SHA-256 over its SubjectPublicKeyInfo, lowercase hex (16 characters).</summary>
    public static string KeyIdOf(byte[] subjectPublicKeyInfo) => Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];

    /// <summary>The key id of a PEM public key, or null when it is not an ECDSA P-256 key.</summary>
    public static string? KeyIdOf(string publicKeyPem)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException)
        {
            return null;
        }
        return key.KeySize == 256 ? KeyIdOf(key.ExportSubjectPublicKeyInfo()) : null;
    }

    /// <summary>
    /// The ECDSA P-256 public keys in a PEM text (one key, or the several that <c>gp keys public</c> and
    /// <c>/api/v1/audit/public-key</c> write), by key id; text outside the PEM blocks is ignored.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParsePublicKeys(string pemText)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = pemText.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var block = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            if (KeyIdOf(block) is { } id)
                keys.TryAdd(id, block);
        }
        return keys;
    }

    private async Task<SealedRow> CreateAsync(WriteScope scope, Actor actor, string? replaced)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = key.ExportSubjectPublicKeyInfo();
        var id = KeyIdOf(publicKey);
        var row = new SealedRow { KeyId = id, SealedPrivateKey = Seal(ring.Current, id, key.ExportPkcs8PrivateKey()), MasterKeyId = ring.Current.Id };
        await scope.ExecuteAsync(Insert, new
        {
            Id = id, Algorithm, PublicKey = publicKey, Sealed = row.SealedPrivateKey, row.MasterKeyId,
            Now = StoredTime.Normalize(time.GetUtcNow()),
        });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.SigningKeyCreated,
            Detail: replaced is null ? $"key {id}" : $"key {id}, replacing key {replaced} (retired, still verifies what it signed)"));
        return row;
    }

    private byte[] Open(SealedRow row) => _opened.GetOrAdd((row.KeyId, row.MasterKeyId), _ => Aead.Open(
        ring.Find(row.MasterKeyId).Bytes, row.SealedPrivateKey.AsSpan(0, Aead.NonceSize), row.SealedPrivateKey.AsSpan(Aead.NonceSize),
        AssociatedData(row.KeyId)));

    private static byte[] Seal(MasterKey master, string keyId, byte[] privateKey)
    {
        var (nonce, sealedKey) = Aead.Seal(master.Bytes, privateKey, AssociatedData(keyId));
        return [.. nonce, .. sealedKey];
    }

    private static byte[] AssociatedData(string keyId) => Encoding.UTF8.GetBytes($"gp-signing-key/v1/{keyId}");

    private sealed record SealedRow
    {
        public string KeyId { get; init; } = "";
        public byte[] SealedPrivateKey { get; init; } = [];
        public string MasterKeyId { get; init; } = "";
    }
}
