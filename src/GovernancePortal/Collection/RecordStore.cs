using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Crypto;
using GovernancePortal.Data;

namespace GovernancePortal.Collection;

public sealed record NewRecord(long ProgramId, long CategoryId, long SubjectId, DateTimeOffset CapturedAt, string PayloadJson, long? CollectorId = null);

/// <summary>A record with its payload opened; <see cref="Payload"/> is null once its data key was destroyed.</summary>
public sealed record OpenedRecord(long Id, long ProgramId, long CategoryId, long SubjectId, DateTimeOffset CapturedAt, DateTimeOffset ReceivedAt, string? Payload);

/// <summary>Stores and reads encrypted records. Writes run inside the caller's transaction.</summary>
public sealed class RecordStore(DataKeyStore keys, TimeProvider time)
{
    /// <summary>Seals each payload with its scope's data key and stores the records in bulk; all received now.</summary>
    public async Task AddAsync(WriteScope unitOfWork, IReadOnlyList<NewRecord> records)
    {
        var clock = CollectionTimings.Start();
        var scopes = records.Select(r => new DataKeyScope(r.SubjectId, r.ProgramId, r.CategoryId)).ToHashSet();
        var scopeKeys = await keys.GetOrCreateManyAsync(unitOfWork, scopes);
        clock.Mark(CollectionTimings.Keys);
        var receivedAt = StoredTime.Normalize(time.GetUtcNow());
        var rows = new RecordRow[records.Count];
        // Sealing is the CPU-heavy step inside the write transaction (on SQLite, while every other writer waits):
        // it is spread over the cores, each worker with its own AES-GCM instances, which are not thread-safe.
        Parallel.For(0, records.Count, () => new Dictionary<long, AesGcm>(), (i, _, ciphers) =>
        {
            var record = records[i];
            var key = scopeKeys[new DataKeyScope(record.SubjectId, record.ProgramId, record.CategoryId)];
            if (!ciphers.TryGetValue(key.Id, out var cipher))
                ciphers[key.Id] = cipher = new AesGcm(key.Key, Aead.TagSize);
            var capturedAt = StoredTime.Normalize(record.CapturedAt);
            var (nonce, sealedPayload) = RecordPayloads.Seal(cipher, key, capturedAt, record.PayloadJson);
            rows[i] = new RecordRow(record.ProgramId, record.CategoryId, record.SubjectId, record.CollectorId, key.Id, capturedAt, receivedAt, nonce, sealedPayload);
            return ciphers;
        }, ciphers =>
        {
            foreach (var cipher in ciphers.Values)
                cipher.Dispose();
        });
        clock.Mark(CollectionTimings.Seal);
        await unitOfWork.Dialect.InsertRecordsAsync(unitOfWork.Connection, unitOfWork.Transaction, rows, unitOfWork.Cancellation);
        clock.Mark(CollectionTimings.Insert);
    }
}
