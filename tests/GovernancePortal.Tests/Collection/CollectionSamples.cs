using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Collection;

/// <summary>A program registered the way privacy officers do it, with one collector sending for it.</summary>
public sealed record CollectingProgram(string Key, long Id, IReadOnlyDictionary<string, long> Categories, DateTimeOffset CreatedAt, CollectorIdentity Collector)
{
    public long this[string category] => Categories[category];
}

/// <summary>People, programs and request bodies for the collection tests.</summary>
public static class CollectionSamples
{
    public static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    public static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    public static readonly Actor Alice = new("alice@example.com", [Roles.Employee]);

    /// <summary>Registers a program with <paramref name="categories"/> through the editor and creates a collector for it.</summary>
    public static async Task<CollectingProgram> ProgramAsync(IServiceProvider services, string key, params string[] categories)
    {
        var editor = services.GetRequiredService<ProgramEditor>();
        var program = await editor.RegisterAsync(new ProgramDraft(key, $"Program {key}", "Train assistants on real work", "AI platform team", LegalBasis.Consent), Priya);
        foreach (var category in categories)
            await editor.AddCategoryAsync(key, new CategoryDraft(category, category, "", "high", 30), Priya);
        var registry = services.GetRequiredService<CollectorRegistry>();
        var (_, token) = await registry.CreateAsync(key, $"{key} agent", Priya);
        var collector = await registry.AuthenticateAsync(token) ?? throw new InvalidOperationException("A new collector's token did not authenticate.");
        var registered = await services.GetRequiredService<ProgramQueries>().GetAsync(key) ?? throw new InvalidOperationException($"Program {key} is not registered.");
        return new CollectingProgram(key, program.Id, registered.Categories.ToDictionary(c => c.Key, c => c.Id), program.CreatedAt, collector);
    }

    /// <summary>One record of a request body, as a collector writes it.</summary>
    public static JsonObject Record(string subject, string category, DateTimeOffset capturedAt, string payloadJson = """{"keys":12}""") => new()
    {
        ["subject"] = subject,
        ["category"] = category,
        ["capturedAt"] = capturedAt.ToString("O", CultureInfo.InvariantCulture),
        ["payload"] = JsonNode.Parse(payloadJson),
    };

    public static string Array(params JsonNode[] records) => new JsonArray(records.Select(r => r.DeepClone()).ToArray()).ToJsonString();

    public static string Ndjson(params JsonNode[] records) => string.Join('\n', records.Select(r => r.ToJsonString()));

    public static Task<CollectBatch> ReadAsync(string body, string contentType = "application/json") =>
        CollectBatch.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(body)), contentType, TestContext.Current.CancellationToken);

    /// <summary>The batch a collector would send: parsed from the JSON body, as the endpoint does.</summary>
    public static Task<CollectBatch> BatchAsync(params JsonNode[] records) => ReadAsync(Array(records));

    public static async Task<long> CountAsync(TestDatabase db, string sql, object? parameters = null)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    public static async Task<long> SubjectIdAsync(TestDatabase db, string email)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
    }
}
