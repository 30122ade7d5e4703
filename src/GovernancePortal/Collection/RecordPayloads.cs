using System.Globalization;
using System.Text;
using GovernancePortal.Crypto;

namespace GovernancePortal.Collection;

/// <summary>
/// Seals and opens record payloads with the data key of the record's scope. The associated data
/// binds a ciphertext to its record's identity (subject, program, category, captured time), so a
/// payload copied onto another record does not open.
/// </summary>
public static class RecordPayloads
{
    public static (byte[] Nonce, byte[] Sealed) Seal(DataKey key, DateTimeOffset capturedAt, string payloadJson) =>
        Aead.Seal(key.Key, Encoding.UTF8.GetBytes(payloadJson), AssociatedData(key.Scope, capturedAt));

    /// <summary>Seals with a cipher keyed by <paramref name="key"/>'s bytes, reused across a batch.</summary>
    public static (byte[] Nonce, byte[] Sealed) Seal(System.Security.Cryptography.AesGcm cipher, DataKey key, DateTimeOffset capturedAt, string payloadJson) =>
        Aead.Seal(cipher, Encoding.UTF8.GetBytes(payloadJson), AssociatedData(key.Scope, capturedAt));

    public static string Open(DataKey key, DateTimeOffset capturedAt, byte[] nonce, byte[] sealedPayload) =>
        Encoding.UTF8.GetString(Aead.Open(key.Key, nonce, sealedPayload, AssociatedData(key.Scope, capturedAt)));

    private static byte[] AssociatedData(DataKeyScope scope, DateTimeOffset capturedAt) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"gp-record/v1/{scope.SubjectId}/{scope.ProgramId}/{scope.CategoryId}/{capturedAt.UtcTicks / 10}"));
}
