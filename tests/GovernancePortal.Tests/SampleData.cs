using System.Data.Common;
using Dapper;
using GovernancePortal.Collection;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests;

/// <summary>A program with categories and subjects to hang records on, inserted with plain SQL.</summary>
public sealed record SampleProgram(long Id, IReadOnlyDictionary<string, long> Categories)
{
    public long this[string category] => Categories[category];
}

public static class SampleData
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The identity provider of the people the tests sign in.</summary>
    public const string Issuer = "https://idp.example.test/";

    public static async Task<SampleProgram> ProgramAsync(TestDatabase db, string key, params string[] categories)
    {
        await using var connection = await db.OpenAsync();
        var programId = await connection.ExecuteScalarAsync<long>("""
            INSERT INTO programs (key, name, purpose, owner, legal_basis, created_at, updated_at)
            VALUES (@Key, @Key, 'testing', 'tests', 'consent', @Now, @Now) RETURNING id
            """, new { Key = key, Now = Epoch });
        var ids = new Dictionary<string, long>();
        foreach (var category in categories)
        {
            ids[category] = await connection.ExecuteScalarAsync<long>("""
                INSERT INTO categories (program_id, key, name, sensitivity, retention_days, created_at)
                VALUES (@ProgramId, @Key, @Key, 'high', 30, @Now) RETURNING id
                """, new { ProgramId = programId, Key = category, Now = Epoch });
        }
        return new SampleProgram(programId, ids);
    }

    /// <summary>A subject known only by email, as a collector's first record about someone creates it.</summary>
    public static async Task<long> SubjectAsync(TestDatabase db, string email)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO subjects (email, display_name, created_at) VALUES (@Email, @Email, @Now) RETURNING id
            """, new { Email = SubjectDirectory.NormalizeEmail(email), Now = Epoch });
    }

    public static async Task AddRecordsAsync(TestDatabase db, params NewRecord[] records)
    {
        await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync();
        await db.Get<RecordStore>().AddAsync(scope, records);
        await scope.CommitAsync();
    }

    public static Task<IReadOnlyList<OpenedRecord>> NewestAsync(TestDatabase db, long subjectId, long programId, int limit = 1000) =>
        NewestAsync(db.Services, subjectId, programId, limit);

    /// <summary>The subject's own view of its records, through <paramref name="services"/> (and so its master keys).</summary>
    public static Task<IReadOnlyList<OpenedRecord>> NewestAsync(IServiceProvider services, long subjectId, long programId, int limit = 1000) =>
        services.NewestRecordsAsync(subjectId, programId, limit);

    public static Task<IReadOnlyList<Revocation>> ActiveRevocationsAsync(TestDatabase db, long subjectId) => db.Services.ActiveRevocationsAsync(subjectId);

    public static async Task<int> DestroyKeysAsync(TestDatabase db, long subjectId, long programId, long? categoryId)
    {
        await using var scope = await db.Get<ConnectionFactory>().BeginWriteAsync();
        var destroyed = await db.Get<DataKeyStore>().DestroyAsync(scope, subjectId, programId, categoryId);
        await scope.CommitAsync();
        return destroyed;
    }
}
