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
    private const string BySubject = """
        SELECT id AS Id, program_id AS ProgramId, category_id AS CategoryId, subject_id AS SubjectId, data_key_id AS DataKeyId,
               captured_at AS CapturedAt, received_at AS ReceivedAt, nonce AS Nonce, payload AS Payload
        FROM records
        WHERE subject_id = @SubjectId AND program_id = @ProgramId
        ORDER BY captured_at DESC, id DESC
        LIMIT @Limit
        """;

    /// <summary>Seals each payload with its scope's data key and stores the records in bulk; all received now.</summary>
    public async Task AddAsync(WriteScope unitOfWork, IReadOnlyList<NewRecord> records)
    {
        var scopes = records.Select(r => new DataKeyScope(r.SubjectId, r.ProgramId, r.CategoryId)).ToHashSet();
        var scopeKeys = await keys.GetOrCreateManyAsync(unitOfWork, scopes);
        var receivedAt = StoredTime.Normalize(time.GetUtcNow());
        var rows = new RecordRow[records.Count];
        var ciphers = new Dictionary<long, AesGcm>();
        try
        {
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                var key = scopeKeys[new DataKeyScope(record.SubjectId, record.ProgramId, record.CategoryId)];
                if (!ciphers.TryGetValue(key.Id, out var cipher))
                    ciphers[key.Id] = cipher = new AesGcm(key.Key, Aead.TagSize);
                var capturedAt = StoredTime.Normalize(record.CapturedAt);
                var (nonce, sealedPayload) = RecordPayloads.Seal(cipher, key, capturedAt, record.PayloadJson);
                rows[i] = new RecordRow(record.ProgramId, record.CategoryId, record.SubjectId, record.CollectorId, key.Id, capturedAt, receivedAt, nonce, sealedPayload);
            }
        }
        finally
        {
            foreach (var cipher in ciphers.Values)
                cipher.Dispose();
        }
        await unitOfWork.Dialect.InsertRecordsAsync(unitOfWork.Connection, unitOfWork.Transaction, rows, unitOfWork.Cancellation);
    }

    /// <summary>The newest records of one subject in one program, opened. For the subject's own view only.</summary>
    public async Task<IReadOnlyList<OpenedRecord>> NewestForSubjectAsync(DbConnection connection, long subjectId, long programId, int limit)
    {
        var rows = (await connection.QueryAsync<SealedRecord>(BySubject, new { SubjectId = subjectId, ProgramId = programId, Limit = limit })).ToList();
        var liveKeys = await keys.GetManyAsync(connection, rows.Select(r => r.DataKeyId));
        return rows.Select(row => new OpenedRecord(row.Id, row.ProgramId, row.CategoryId, row.SubjectId, row.CapturedAt, row.ReceivedAt,
            liveKeys.TryGetValue(row.DataKeyId, out var key) ? row.Open(key) : null)).ToList();
    }
}
