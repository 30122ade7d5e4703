using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Crypto;

public sealed class DataKeyStoreTests : DatabaseTests
{
    private static async Task<DataKey> GetOrCreateAsync(TestDatabase db, DataKeyScope scope)
    {
        await using var unitOfWork = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation);
        var key = (await db.Get<DataKeyStore>().GetOrCreateManyAsync(unitOfWork, [scope]))[scope];
        await unitOfWork.CommitAsync();
        return key;
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task GetOrCreate_SameScopeTwice_ReturnsTheSameKey_OtherScopesGetTheirOwn(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        var scope = new DataKeyScope(alice, program.Id, program["keystrokes"]);

        var first = await GetOrCreateAsync(db, scope);
        var second = await GetOrCreateAsync(db, scope);
        var otherCategory = await GetOrCreateAsync(db, scope with { CategoryId = program["transcriptions"] });
        var otherSubject = await GetOrCreateAsync(db, scope with { SubjectId = bob });

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(32, first.Key.Length);
        Assert.Equal(3, new[] { first.Id, otherCategory.Id, otherSubject.Id }.Distinct().Count());
        Assert.NotEqual(first.Key, otherCategory.Key);
        Assert.NotEqual(first.Key, otherSubject.Key);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task GetOrCreate_StoresTheKeyOnlyWrappedByTheMasterKey(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");

        var key = await GetOrCreateAsync(db, new DataKeyScope(alice, program.Id, program["keystrokes"]));

        await using var connection = await db.OpenAsync();
        var (wrapped, masterKeyId) = await connection.QuerySingleAsync<(byte[], string)>(
            "SELECT wrapped_key, master_key_id FROM data_keys WHERE id = @Id", new { key.Id });
        Assert.Equal(db.Settings.MasterKeys.Current.Id, masterKeyId);
        Assert.Equal(Aead.NonceSize + 32 + Aead.TagSize, wrapped.Length);
        Assert.False(wrapped.AsSpan().IndexOf(key.Key) >= 0, "the data key is stored in clear");
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Destroy_MakesExistingPayloadsUnreadable_AndANewRecordGetsANewReadableKey(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var category = program["keystrokes"];
        await SampleData.AddRecordsAsync(db,
            new NewRecord(program.Id, category, alice, SampleData.Epoch, """{"text":"before 1"}"""),
            new NewRecord(program.Id, category, alice, SampleData.Epoch.AddMinutes(1), """{"text":"before 2"}"""));
        var oldKey = Assert.Single(await KeyIdsAsync(db));

        var destroyed = await SampleData.DestroyKeysAsync(db, alice, program.Id, categoryId: null);
        var afterDestroy = await SampleData.NewestAsync(db, alice, program.Id);
        await SampleData.AddRecordsAsync(db, new NewRecord(program.Id, category, alice, SampleData.Epoch.AddMinutes(2), """{"text":"after"}"""));
        var afterNewRecord = await SampleData.NewestAsync(db, alice, program.Id);

        Assert.Equal(1, destroyed);
        Assert.Equal(2, afterDestroy.Count);
        Assert.All(afterDestroy, record => Assert.Null(record.Payload));
        Assert.Equal(["""{"text":"after"}""", null, null], afterNewRecord.Select(record => record.Payload));
        var keys = await KeyIdsAsync(db);
        Assert.Equal(2, keys.Count);
        Assert.Contains(oldKey, keys);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM data_keys WHERE destroyed_at IS NOT NULL AND wrapped_key IS NULL AND id = @OldKey", new { OldKey = oldKey }));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Destroy_OneCategory_LeavesTheSubjectsOtherCategoriesAndOtherSubjectsReadable(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch, """{"a":"keys"}"""),
            new NewRecord(program.Id, program["transcriptions"], alice, SampleData.Epoch, """{"a":"talk"}"""),
            new NewRecord(program.Id, program["keystrokes"], bob, SampleData.Epoch, """{"b":"keys"}"""));

        Assert.Equal(1, await SampleData.DestroyKeysAsync(db, alice, program.Id, program["keystrokes"]));

        var aliceRecords = await SampleData.NewestAsync(db, alice, program.Id);
        Assert.Null(Assert.Single(aliceRecords, r => r.CategoryId == program["keystrokes"]).Payload);
        Assert.Equal("""{"a":"talk"}""", Assert.Single(aliceRecords, r => r.CategoryId == program["transcriptions"]).Payload);
        Assert.Equal("""{"b":"keys"}""", Assert.Single(await SampleData.NewestAsync(db, bob, program.Id)).Payload);
    }

    private static async Task<List<long>> KeyIdsAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.QueryAsync<long>("SELECT id FROM data_keys ORDER BY id")).ToList();
    }
}
