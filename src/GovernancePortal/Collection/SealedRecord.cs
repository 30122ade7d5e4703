using System.Security.Cryptography;
using GovernancePortal.Crypto;

namespace GovernancePortal.Collection;

/// <summary>A record as read from the table, its payload still sealed.</summary>
public sealed record SealedRecord
{
    public long Id { get; init; }
    public long ProgramId { get; init; }
    public long CategoryId { get; init; }
    public long SubjectId { get; init; }
    public long DataKeyId { get; init; }
    public DateTimeOffset CapturedAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public byte[] Nonce { get; init; } = [];
    public byte[] Payload { get; init; } = [];

    /// <summary>
    /// Opens the payload with its data key. The key must be of this record's own scope: the associated
    /// data is the key's scope, so a record re-pointed at another scope's key (or re-filed under another
    /// subject or category) would otherwise open as someone else's data. Throws
    /// <see cref="CryptographicException"/> when the scope or the ciphertext does not match.
    /// </summary>
    public string Open(DataKey key)
    {
        if (key.Scope != new DataKeyScope(SubjectId, ProgramId, CategoryId))
            throw new CryptographicException($"Record {Id} is sealed with the data key of another scope.");
        return RecordPayloads.Open(key, CapturedAt, Nonce, Payload);
    }
}
