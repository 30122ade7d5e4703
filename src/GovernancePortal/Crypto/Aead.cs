using System.Security.Cryptography;

namespace GovernancePortal.Crypto;

/// <summary>AES-256-GCM with a random 96-bit nonce. Output is ciphertext followed by the 128-bit tag.</summary>
public static class Aead
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    public static (byte[] Nonce, byte[] Sealed) Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        using var aes = new AesGcm(key, TagSize);
        return Seal(aes, plaintext, associatedData);
    }

    /// <summary>Seals with a cipher already keyed, for many payloads under one key.</summary>
    public static (byte[] Nonce, byte[] Sealed) Seal(AesGcm aes, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var output = new byte[plaintext.Length + TagSize];
        aes.Encrypt(nonce, plaintext, output.AsSpan(0, plaintext.Length), output.AsSpan(plaintext.Length), associatedData);
        return (nonce, output);
    }

    /// <summary>Throws <see cref="AuthenticationTagMismatchException"/> when the key, nonce, data or associated data differ.</summary>
    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
    {
        if (sealedData.Length < TagSize)
            throw new CryptographicException("The sealed data is shorter than its tag.");
        var plaintextLength = sealedData.Length - TagSize;
        var output = new byte[plaintextLength];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(nonce, sealedData[..plaintextLength], sealedData[plaintextLength..], output, associatedData);
        return output;
    }
}
