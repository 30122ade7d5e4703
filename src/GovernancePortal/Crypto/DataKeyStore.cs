using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Crypto;

/// <summary>
/// Envelope encryption: a data key per subject, program and category, stored wrapped by the master
/// key. Destroying a scope's key makes every payload sealed with it unreadable (crypto-shredding).
/// A key is <em>sealed</em> when its scope is withdrawn or asked to be erased: it still opens what it
/// sealed, but new records of the scope get a new key, so an erasure destroys exactly the keys of the
/// records it erases (docs/erasure.md).
/// </summary>
public sealed class DataKeyStore(MasterKeyRing ring, TimeProvider time)
{
    private const string InsertIfAbsent = "INSERT INTO data_keys (subject_id, program_id, category_id, wrapped_key, master_key_id, created_at)";

    private const string OnConflictDoNothing = "ON CONFLICT (subject_id, program_id, category_id) WHERE destroyed_at IS NULL AND sealed_at IS NULL DO NOTHING";

    private const string ScopedColumns = """
        SELECT id AS Id, subject_id AS SubjectId, program_id AS ProgramId, category_id AS CategoryId,
               wrapped_key AS WrappedKey, master_key_id AS MasterKeyId
        FROM data_keys
        """;

    private const string LiveInScope = """
        SELECT id FROM data_keys
        WHERE subject_id = @SubjectId AND program_id = @ProgramId AND (@CategoryId IS NULL OR category_id = @CategoryId)
          AND destroyed_at IS NULL
        """;

    private const string NextGeneration = "UPDATE data_key_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation";

    private const string CurrentGeneration = "SELECT generation FROM data_key_generation WHERE id = 1";

    private const string DestroyedSince = "SELECT data_key_id FROM data_key_destructions WHERE generation > @Seen";

    // Anything sealed "later" than now (a clock that stepped back) is sealed now: the subject lock is held, so no key of the scope is newer.
    private const string SealScope = """
        UPDATE data_keys SET sealed_at = @Now
        WHERE subject_id = @SubjectId AND (@ProgramId IS NULL OR program_id = @ProgramId) AND (@CategoryId IS NULL OR category_id = @CategoryId)
          AND destroyed_at IS NULL AND (sealed_at IS NULL OR sealed_at > @Now)
        """;

    /// <summary>
    /// The live keys of many scopes at once, creating those that are missing, with a query per program
    /// rather than per scope. Call inside the write transaction that stores the payloads, after the subjects'
    /// gates (collection) or locks. The keys this node found live are used again while the key generation has not
    /// moved: every change to which key of a scope is live (a seal, a destruction, a re-wrap) takes the next
    /// generation in its own transaction, a seal under the person's lock, which the subjects' gates wait for. A key
    /// joins that set only once the transaction that found it has committed, and only if it existed before this
    /// call (one it created could still be rolled back with a savepoint); every other key comes from the database.
    /// </summary>
    public async Task<IReadOnlyDictionary<DataKeyScope, DataKey>> GetOrCreateManyAsync(WriteScope unitOfWork, IReadOnlyCollection<DataKeyScope> scopes)
    {
        var wanted = scopes.ToHashSet();
        var keys = new Dictionary<DataKeyScope, DataKey>();
        var generation = await ForgetDestroyedAsync(unitOfWork.Connection, unitOfWork.Transaction);
        if (LiveKeysAt(generation) is { } known)
            foreach (var scope in wanted)
                if (known.TryGetValue(scope, out var key))
                    keys[scope] = key;
        var found = await ReadLiveAsync();
        if (found.Count > 0)
            unitOfWork.AfterCommit(() => Remember(generation, found));
        // Created in one fixed order, so concurrent batches cannot deadlock on each other's new keys.
        var missing = wanted.Where(scope => !keys.ContainsKey(scope))
            .OrderBy(scope => scope.ProgramId).ThenBy(scope => scope.SubjectId).ThenBy(scope => scope.CategoryId).ToList();
        if (missing.Count == 0)
            return keys;
        var now = time.GetUtcNow();
        // Many rows to a statement: a collector's first batches bring thousands of new scopes each.
        await unitOfWork.InsertManyAsync(InsertIfAbsent, missing,
            scope => [scope.SubjectId, scope.ProgramId, scope.CategoryId, Wrap(ring.Current, RandomNumberGenerator.GetBytes(32), scope), ring.Current.Id, now],
            OnConflictDoNothing);
        await ReadLiveAsync();
        return keys;

        // The live keys of the scopes not known yet, from the database; the wrapped bytes only for keys not yet unwrapped here.
        async Task<List<DataKey>> ReadLiveAsync()
        {
            var dialect = unitOfWork.Dialect;
            var read = new List<DataKey>();
            foreach (var program in wanted.Where(scope => !keys.ContainsKey(scope)).GroupBy(scope => scope.ProgramId))
            {
                var live = (await unitOfWork.QueryAsync<LiveRow>(
                    $"SELECT id AS Id, subject_id AS SubjectId, category_id AS CategoryId, master_key_id AS MasterKeyId FROM data_keys WHERE program_id = @ProgramId AND subject_id {dialect.AnyOf("@SubjectIds")} AND destroyed_at IS NULL AND sealed_at IS NULL",
                    new { ProgramId = program.Key, SubjectIds = dialect.List(program.Select(scope => scope.SubjectId).Distinct()) }))
                    .Where(row => wanted.Contains(new DataKeyScope(row.SubjectId, program.Key, row.CategoryId)))
                    .ToList();
                var uncached = live.Where(row => !_unwrapped.ContainsKey((row.Id, row.MasterKeyId))).Select(row => row.Id).ToList();
                var wrapped = uncached.Count == 0 ? new Dictionary<long, byte[]>()
                    : (await unitOfWork.QueryAsync<ScopedRow>($"{ScopedColumns} WHERE id {dialect.AnyOf("@Ids")}", new { Ids = dialect.List(uncached) }))
                        .ToDictionary(row => row.Id, row => row.WrappedKey);
                foreach (var row in live)
                {
                    var scope = new DataKeyScope(row.SubjectId, program.Key, row.CategoryId);
                    var key = _unwrapped.TryGetValue((row.Id, row.MasterKeyId), out var cached) ? cached
                        : UnwrapCached(row.Id, wrapped[row.Id], row.MasterKeyId, scope);
                    read.Add(keys[scope] = new DataKey(row.Id, scope, key));
                }
            }
            return read;
        }
    }

    private sealed record LiveRow
    {
        public long Id { get; init; }
        public long SubjectId { get; init; }
        public long CategoryId { get; init; }
        public string MasterKeyId { get; init; } = "";
    }

    /// <summary>The live keys among <paramref name="ids"/>; destroyed keys are simply absent.</summary>
    public async Task<IReadOnlyDictionary<long, DataKey>> GetManyAsync(DbConnection connection, IEnumerable<long> ids, DbTransaction? transaction = null)
    {
        var distinct = ids.Distinct().ToArray();
        if (distinct.Length == 0)
            return new Dictionary<long, DataKey>();
        await ForgetDestroyedAsync(connection, transaction);
        var rows = await connection.QueryAsync<ScopedRow>($"{ScopedColumns} WHERE id {SqlDialect.Of(connection).AnyOf("@Ids")} AND destroyed_at IS NULL", new { Ids = SqlDialect.Of(connection).List(distinct) }, transaction);
        return rows.ToDictionary(
            row => row.Id,
            row =>
            {
                var scope = new DataKeyScope(row.SubjectId, row.ProgramId, row.CategoryId);
                return new DataKey(row.Id, scope, UnwrapCached(row.Id, row.WrappedKey, row.MasterKeyId, scope));
            });
    }

    /// <summary>Destroys the live keys of a subject in a program (or one category of it). Returns how many.</summary>
    public async Task<int> DestroyAsync(WriteScope unitOfWork, long subjectId, long programId, long? categoryId)
    {
        var ids = await unitOfWork.QueryAsync<long>(LiveInScope, new { SubjectId = subjectId, ProgramId = programId, CategoryId = categoryId });
        return (await DestroyKeysAsync(unitOfWork, ids)).Count;
    }

    /// <summary>
    /// Seals the keys of a subject's scope (every program when <paramref name="programId"/> is null, every
    /// category when <paramref name="categoryId"/> is null) at <paramref name="now"/>: they keep opening the
    /// records they sealed, and the next record of the scope gets a new key. Call with the subject row locked
    /// (<c>Revocations.LockSubjectAsync</c>), which orders this against collection.
    /// </summary>
    public async Task<int> SealAsync(WriteScope unitOfWork, long subjectId, long? programId, long? categoryId, DateTimeOffset now)
    {
        var sealedKeys = await unitOfWork.ExecuteAsync(SealScope, new { SubjectId = subjectId, ProgramId = programId, CategoryId = categoryId, Now = StoredTime.Normalize(now) });
        // The next generation, so no node takes a sealed key for a new record from what it found live before.
        if (sealedKeys > 0)
            await unitOfWork.ExecuteScalarAsync<long>(NextGeneration);
        return sealedKeys;
    }

    /// <summary>Takes the next key generation: every node reads its live keys from the database again (a re-wrap changed them).</summary>
    internal static Task NextGenerationAsync(WriteScope unitOfWork) => unitOfWork.ExecuteScalarAsync<long>(NextGeneration);

    /// <summary>
    /// Destroys the keys among <paramref name="ids"/> that are not destroyed yet: their wrapped bytes are
    /// nulled, and the destruction takes the next generation, which every node compares before its next
    /// read to drop and zero what it cached. Returns the ids this call destroyed (another node may have
    /// destroyed the rest).
    /// </summary>
    public async Task<IReadOnlyList<long>> DestroyKeysAsync(WriteScope unitOfWork, IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0)
            return [];
        var destroyed = await unitOfWork.QueryAsync<long>(
            $"UPDATE data_keys SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = @Now WHERE id {unitOfWork.Dialect.AnyOf("@Ids")} AND destroyed_at IS NULL RETURNING id",
            new { Ids = unitOfWork.Dialect.List(ids), Now = StoredTime.Normalize(time.GetUtcNow()) });
        if (destroyed.Count == 0)
            return destroyed;
        // The generation row's lock is held to the commit, so generations commit in the order they are taken.
        var generation = await unitOfWork.ExecuteScalarAsync<long>(NextGeneration);
        await unitOfWork.ExecuteAsync(
            $"INSERT INTO data_key_destructions (generation, data_key_id) SELECT @Generation, id FROM data_keys WHERE id {unitOfWork.Dialect.AnyOf("@Ids")}",
            new { Generation = generation, Ids = unitOfWork.Dialect.List(destroyed) });
        return destroyed;
    }

    private long _seenGeneration;

    /// <summary>
    /// Drops from this node's cache, and zeroes, every key destroyed since the last generation this node saw:
    /// one single-row read when nothing was destroyed. Runs before every read of keys, so no cached bytes
    /// of a destroyed key survive past the next read on any node.
    /// </summary>
    private async Task<long> ForgetDestroyedAsync(DbConnection connection, DbTransaction? transaction)
    {
        var seen = Interlocked.Read(ref _seenGeneration);
        var generation = await connection.ExecuteScalarAsync<long>(CurrentGeneration, transaction: transaction);
        if (generation <= seen)
            return generation;
        var destroyed = (await connection.QueryAsync<long>(DestroyedSince, new { Seen = seen }, transaction)).ToHashSet();
        lock (_forgetting)
        {
            // A read that found the key live just before its destruction must not cache it again after this.
            if (_forgotten.Count + destroyed.Count > MaxCachedKeys)
                _forgotten.Clear();
            _forgotten.UnionWith(destroyed);
            foreach (var entry in _unwrapped.Keys.Where(entry => destroyed.Contains(entry.Id)).ToList())
            {
                if (_unwrapped.TryRemove(entry, out var bytes))
                    CryptographicOperations.ZeroMemory(bytes);
            }
        }
        // Only ever forward: a slower reader that saw an older generation does not move it back.
        while (true)
        {
            var current = Interlocked.Read(ref _seenGeneration);
            if (current >= generation || Interlocked.CompareExchange(ref _seenGeneration, generation, current) == current)
                return generation;
        }
    }

    /// <summary>The keys found live at one generation, by scope.</summary>
    private sealed record LiveKeys(long Generation, ConcurrentDictionary<DataKeyScope, DataKey> Keys);

    private LiveKeys _live = new(-1, new());

    /// <summary>
    /// The live keys known at <paramref name="generation"/>. A newer generation starts an empty set; a reader that saw
    /// an older generation than the set's gets none and reads from the database.
    /// </summary>
    private ConcurrentDictionary<DataKeyScope, DataKey>? LiveKeysAt(long generation)
    {
        while (true)
        {
            var current = Volatile.Read(ref _live);
            if (current.Generation == generation)
                return current.Keys;
            if (current.Generation > generation)
                return null;
            var next = new LiveKeys(generation, new());
            if (Interlocked.CompareExchange(ref _live, next, current) == current)
                return next.Keys;
        }
    }

    private void Remember(long generation, IReadOnlyList<DataKey> found)
    {
        if (LiveKeysAt(generation) is not { } known)
            return;
        foreach (var key in found)
            if (known.Count < MaxCachedKeys)
                known[key.Scope] = key;
    }

    /// <summary>Whether this node holds the unwrapped bytes of key <paramref name="id"/> in memory (what the shredding tests look at).</summary>
    internal bool IsCached(long id) => _unwrapped.Keys.Any(entry => entry.Id == id);

    internal static byte[] Wrap(MasterKey master, byte[] key, DataKeyScope scope)
    {
        var (nonce, sealedKey) = Aead.Seal(master.Bytes, key, scope.WrapAssociatedData());
        return [.. nonce, .. sealedKey];
    }

    /// <summary>
    /// Unwrapped keys by id and wrapping key. A data key's bytes never change (rotation only re-wraps
    /// them), and only ids read as live from the database are looked up, so a destroyed key is never used.
    /// </summary>
    private readonly ConcurrentDictionary<(long Id, string MasterKeyId), byte[]> _unwrapped = new();

    private const int MaxCachedKeys = 200_000;

    private byte[] UnwrapCached(long id, byte[] wrapped, string masterKeyId, DataKeyScope scope)
    {
        if (_unwrapped.TryGetValue((id, masterKeyId), out var key))
            return key;
        var unwrapped = Unwrap(wrapped, masterKeyId, scope);
        lock (_forgetting)
        {
            if (_forgotten.Contains(id))
                return unwrapped;
            if (_unwrapped.Count >= MaxCachedKeys)
                _unwrapped.Clear();
            return _unwrapped[(id, masterKeyId)] = unwrapped;
        }
    }

    // Keys this node dropped as destroyed (recent ones: a read that began before a destruction is short).
    private readonly HashSet<long> _forgotten = [];
    private readonly Lock _forgetting = new();

    internal byte[] Unwrap(byte[] wrapped, string masterKeyId, DataKeyScope scope) =>
        Aead.Open(ring.Find(masterKeyId).Bytes, wrapped.AsSpan(0, Aead.NonceSize), wrapped.AsSpan(Aead.NonceSize), scope.WrapAssociatedData());

    internal record WrappedRow
    {
        public long Id { get; init; }
        public byte[] WrappedKey { get; init; } = [];
        public string MasterKeyId { get; init; } = "";
    }

    internal sealed record ScopedRow : WrappedRow
    {
        public long SubjectId { get; init; }
        public long ProgramId { get; init; }
        public long CategoryId { get; init; }
    }
}
