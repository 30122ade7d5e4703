using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Crypto;

/// <summary>
/// Re-wraps every live data key, and re-seals every signing key, under the current master key, in small
/// transactions, so it can be stopped and run again at any point. Payloads are untouched: only the wrapping changes.
/// </summary>
public sealed class MasterKeyRotation(ConnectionFactory connections, MasterKeyRing ring)
{
    private const int BatchSize = 500;

    private const string NextBatch = """
        SELECT id AS Id, subject_id AS SubjectId, program_id AS ProgramId, category_id AS CategoryId,
               wrapped_key AS WrappedKey, master_key_id AS MasterKeyId
        FROM data_keys
        WHERE destroyed_at IS NULL AND master_key_id <> @Current AND id > @After
        ORDER BY id
        LIMIT @BatchSize
        """;

    private const string Rewrap = """
        UPDATE data_keys SET wrapped_key = @WrappedKey, master_key_id = @MasterKeyId
        WHERE id = @Id AND master_key_id = @OldMasterKeyId AND destroyed_at IS NULL
        """;

    /// <summary>Returns how many data keys were re-wrapped.</summary>
    public async Task<int> RewrapAllAsync(CancellationToken cancellationToken = default)
    {
        await new SigningKeys(connections, ring, new AuditLog(TimeProvider.System), TimeProvider.System).ResealAllAsync(cancellationToken);
        var store = new DataKeyStore(ring, TimeProvider.System);
        var total = 0;
        long after = 0;
        while (true)
        {
            await using var batch = await connections.BeginWriteAsync(cancellationToken);
            var rows = (await batch.QueryAsync<DataKeyStore.ScopedRow>(NextBatch, new { Current = ring.Current.Id, After = after, BatchSize })).ToList();
            if (rows.Count == 0)
                return total;
            foreach (var row in rows)
            {
                var scope = new DataKeyScope(row.SubjectId, row.ProgramId, row.CategoryId);
                var key = store.Unwrap(row.WrappedKey, row.MasterKeyId, scope);
                total += await batch.ExecuteAsync(Rewrap, new
                {
                    row.Id,
                    WrappedKey = DataKeyStore.Wrap(ring.Current, key, scope),
                    MasterKeyId = ring.Current.Id,
                    OldMasterKeyId = row.MasterKeyId,
                });
            }
            // Nodes that know these keys live under the old wrapping read them again.
            await DataKeyStore.NextGenerationAsync(batch);
            await batch.CommitAsync();
            after = rows[^1].Id;
        }
    }

    /// <summary>
    /// For the embedded key file: adds a new current key (keeping the old one to unwrap), re-wraps,
    /// then drops the old key. A crash in between leaves a file that still opens every data key.
    /// </summary>
    public static async Task<(MasterKeyRing Ring, int Rewrapped)> RotateKeyFileAsync(
        ConnectionFactory connections, MasterKeyRing current, CancellationToken cancellationToken = default)
    {
        var path = current.KeyFile ?? throw new InvalidOperationException("The master key comes from configuration, not a key file.");
        var next = MasterKey.Generate();
        MasterKeyRing.WriteKeyFile(path, [next, current.Current, .. current.Retired]);
        var transitional = MasterKeyRing.FromKeyFile(path);
        var count = await new MasterKeyRotation(connections, transitional).RewrapAllAsync(cancellationToken);
        MasterKeyRing.WriteKeyFile(path, [next]);
        return (MasterKeyRing.FromKeyFile(path), count);
    }
}
