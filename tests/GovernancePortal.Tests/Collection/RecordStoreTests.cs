using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Collection;

public sealed class RecordStoreTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task Add_ThenRead_ReturnsThePayloadNewestFirst_AndStoresItEncrypted(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        const string Secret = """{"text":"I need to leave at 3 for a doctor's appointment","keys":52}""";
        await SampleData.AddRecordsAsync(db,
            new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch.AddTicks(1_234_567), Secret),
            new NewRecord(program.Id, program["transcriptions"], alice, SampleData.Epoch.AddHours(1), """{"text":"ünïcode ✓"}"""));

        var records = await SampleData.NewestAsync(db, alice, program.Id);

        Assert.Equal(["""{"text":"ünïcode ✓"}""", Secret], records.Select(r => r.Payload));
        Assert.Equal(SampleData.Epoch.AddTicks(1_234_560), records[1].CapturedAt);
        Assert.All(records, r => Assert.Equal(alice, r.SubjectId));
        await using var connection = await db.OpenAsync();
        var stored = await connection.QueryAsync<byte[]>("SELECT payload FROM records");
        Assert.All(stored, payload => Assert.DoesNotContain("doctor", System.Text.Encoding.UTF8.GetString(payload)));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Read_WithLimit_ReturnsOnlyTheNewest(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, Enumerable.Range(0, 5)
            .Select(i => new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch.AddMinutes(i), $$"""{"n":{{i}}}"""))
            .ToArray());

        var newest = await SampleData.NewestAsync(db, alice, program.Id, limit: 2);

        Assert.Equal(["""{"n":4}""", """{"n":3}"""], newest.Select(r => r.Payload));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Payload_CopiedOntoARecordWithAnotherCapturedAt_DoesNotOpen(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch, """{"text":"monday"}"""),
            new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch.AddDays(1), """{"text":"tuesday"}"""));

        await using (var connection = await db.OpenAsync())
        {
            // Same subject, program, category and data key: only the captured time differs.
            await connection.ExecuteAsync("""
                UPDATE records SET nonce = (SELECT nonce FROM records WHERE captured_at = @Monday),
                                   payload = (SELECT payload FROM records WHERE captured_at = @Monday)
                WHERE captured_at = @Tuesday
                """, new { Monday = SampleData.Epoch, Tuesday = SampleData.Epoch.AddDays(1) });
        }

        await Assert.ThrowsAnyAsync<CryptographicException>(() => SampleData.NewestAsync(db, alice, program.Id));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Payload_MovedWithItsKeyOntoAnotherSubjectsRecord_DoesNotOpen(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch, """{"text":"alice's secret"}"""),
            new NewRecord(program.Id, program["keystrokes"], bob, SampleData.Epoch, """{"text":"bob's"}"""));

        await using (var connection = await db.OpenAsync())
        {
            // Everything sealed about alice's record, key reference included, now claims to be bob's.
            await connection.ExecuteAsync("""
                UPDATE records SET nonce = (SELECT nonce FROM records WHERE subject_id = @Alice),
                                   payload = (SELECT payload FROM records WHERE subject_id = @Alice),
                                   data_key_id = (SELECT data_key_id FROM records WHERE subject_id = @Alice)
                WHERE subject_id = @Bob
                """, new { Alice = alice, Bob = bob });
        }

        await Assert.ThrowsAnyAsync<CryptographicException>(() => SampleData.NewestAsync(db, bob, program.Id));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Payload_MovedToAnotherCategory_DoesNotOpen(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var program = await SampleData.ProgramAsync(db, "mci", "keystrokes", "performance_data");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        await SampleData.AddRecordsAsync(db, new NewRecord(program.Id, program["keystrokes"], alice, SampleData.Epoch, """{"text":"typed"}"""));

        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE records SET category_id = @Other", new { Other = program["performance_data"] });

        await Assert.ThrowsAnyAsync<CryptographicException>(() => SampleData.NewestAsync(db, alice, program.Id));
    }
}
