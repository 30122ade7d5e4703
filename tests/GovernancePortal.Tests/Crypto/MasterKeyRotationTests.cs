using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Crypto;

public sealed class MasterKeyRotationTests : DatabaseTests
{
    /// <summary>Alice and bob with records in two categories: four data keys.</summary>
    private static async Task<(SampleProgram Program, long Alice, long Bob)> RecordsInFourScopesAsync(TestDatabase db)
    {
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db, (
            from subject in new[] { alice, bob }
            from category in program.Categories.Values
            select new NewRecord(program.Id, category, subject, SampleData.Epoch, $$"""{"subject":{{subject}},"category":{{category}}}""")).ToArray());
        return (program, alice, bob);
    }

    private static async Task<List<string?>> MasterKeyIdsAsync(TestDatabase db)
    {
        await using var connection = await db.OpenAsync();
        return (await connection.QueryAsync<string?>("SELECT master_key_id FROM data_keys ORDER BY id")).ToList();
    }

    private static async Task<List<string?>> PayloadsAsync(IServiceProvider services, long alice, long bob, long programId) =>
        [
            .. (await SampleData.NewestAsync(services, alice, programId)).Select(r => r.Payload),
            .. (await SampleData.NewestAsync(services, bob, programId)).Select(r => r.Payload),
        ];

    [Theory, MemberData(nameof(Engines))]
    public async Task RewrapAll_UnderANewMasterKey_RewrapsEveryDataKeyAndRecordsStayReadable(Engine engine)
    {
        var oldKey = MasterKey.Generate();
        await using var db = await TestDatabase.CreateAsync(engine, masterKeys: new MasterKeyRing(oldKey));
        var (program, alice, bob) = await RecordsInFourScopesAsync(db);
        var before = await PayloadsAsync(db.Services, alice, bob, program.Id);
        var newKey = MasterKey.Generate();
        await using var rotated = db.BuildServices(new MasterKeyRing(newKey, [oldKey]));

        var rewrapped = await rotated.GetRequiredService<MasterKeyRotation>().RewrapAllAsync(Cancellation);
        var again = await rotated.GetRequiredService<MasterKeyRotation>().RewrapAllAsync(Cancellation);

        Assert.Equal(4, rewrapped);
        Assert.Equal(0, again);
        Assert.All(await MasterKeyIdsAsync(db), id => Assert.Equal(newKey.Id, id));
        Assert.Equal(4, before.Count);
        Assert.DoesNotContain(null, before);
        await using var newKeyAlone = db.BuildServices(new MasterKeyRing(newKey));
        Assert.Equal(before, await PayloadsAsync(newKeyAlone, alice, bob, program.Id));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RewrapAll_Afterwards_TheOldMasterKeyAloneOpensNothing(Engine engine)
    {
        var oldKey = MasterKey.Generate();
        await using var db = await TestDatabase.CreateAsync(engine, masterKeys: new MasterKeyRing(oldKey));
        var (program, alice, _) = await RecordsInFourScopesAsync(db);
        await using var rotated = db.BuildServices(new MasterKeyRing(MasterKey.Generate(), [oldKey]));
        await rotated.GetRequiredService<MasterKeyRotation>().RewrapAllAsync(Cancellation);

        await using var oldKeyAlone = db.BuildServices(new MasterKeyRing(oldKey));

        await Assert.ThrowsAnyAsync<CryptographicException>(() => SampleData.NewestAsync(oldKeyAlone, alice, program.Id));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RewrapAll_SkipsDestroyedKeys(Engine engine)
    {
        var oldKey = MasterKey.Generate();
        await using var db = await TestDatabase.CreateAsync(engine, masterKeys: new MasterKeyRing(oldKey));
        var (program, alice, bob) = await RecordsInFourScopesAsync(db);
        await SampleData.DestroyKeysAsync(db, alice, program.Id, categoryId: null);
        await using var rotated = db.BuildServices(new MasterKeyRing(MasterKey.Generate(), [oldKey]));

        var rewrapped = await rotated.GetRequiredService<MasterKeyRotation>().RewrapAllAsync(Cancellation);

        Assert.Equal(2, rewrapped);
        Assert.Equal([null, null], (await SampleData.NewestAsync(rotated, alice, program.Id)).Select(r => r.Payload));
        Assert.All(await SampleData.NewestAsync(rotated, bob, program.Id), r => Assert.NotNull(r.Payload));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task RotateKeyFile_Twice_LeavesOneNewKeyInTheFileAndRecordsReadable(Engine engine)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), $"gp-key-{Guid.NewGuid():N}", MasterKeyRing.KeyFileName);
        try
        {
            var original = MasterKeyRing.FromKeyFile(keyFile);
            await using var db = await TestDatabase.CreateAsync(engine, masterKeys: original);
            var (program, alice, bob) = await RecordsInFourScopesAsync(db);
            var before = await PayloadsAsync(db.Services, alice, bob, program.Id);
            var connections = db.Get<ConnectionFactory>();

            var (first, firstCount) = await MasterKeyRotation.RotateKeyFileAsync(connections, original, Cancellation);
            var (second, secondCount) = await MasterKeyRotation.RotateKeyFileAsync(connections, first, Cancellation);

            Assert.Equal((4, 4), (firstCount, secondCount));
            Assert.Equal(3, new[] { original.Current.Id, first.Current.Id, second.Current.Id }.Distinct().Count());
            var inFile = MasterKeyRing.FromKeyFile(keyFile);
            Assert.Equal(second.Current.Id, inFile.Current.Id);
            Assert.Empty(inFile.Retired);
            Assert.Single(File.ReadAllLines(keyFile), line => line.Length > 0);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.All(await MasterKeyIdsAsync(db), id => Assert.Equal(second.Current.Id, id));
            await using var fromFile = db.BuildServices(inFile);
            Assert.Equal(before, await PayloadsAsync(fromFile, alice, bob, program.Id));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(keyFile)!, recursive: true);
        }
    }
}
