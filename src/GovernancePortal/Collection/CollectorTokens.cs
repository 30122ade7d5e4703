using System.Security.Cryptography;
using System.Text;

namespace GovernancePortal.Collection;

/// <summary>Collector bearer tokens: <c>gpc_</c> and 32 random bytes (base64url). Only their SHA-256 is stored.</summary>
public static class CollectorTokens
{
    public const string Prefix = "gpc_";

    public static string Generate() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool LooksValid(string? token) =>
        token is { Length: 47 } && token.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Compares two hashes in constant time, so response timing says nothing about how much matched.</summary>
    public static bool Matches(byte[] storedHash, string presentedToken) =>
        CryptographicOperations.FixedTimeEquals(storedHash, Hash(presentedToken));
}
