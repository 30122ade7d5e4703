using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace GovernancePortal.Web.Tests.Collection;

/// <summary>A program registered for one test, with a collector and its token, on the portal's database.</summary>
public sealed record CollectingProgram(string Key, string Name, long Id, DateTimeOffset CreatedAt, long CollectorId, string Token);

/// <summary>What a collector does over HTTP, and what the tests check about the answers.</summary>
public static class CollectApi
{
    public const string CollectPath = "/api/v1/collect";
    public const string StatusPath = "/api/v1/collect/status";

    public static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);
    public static readonly Actor Omar = new("omar@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private static int _programs;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Registers a program of its own for the calling test (the fixture's database is shared), with a collector.</summary>
    public static async Task<CollectingProgram> ProgramAsync(PortalFactory portal, params string[] categories)
    {
        var key = $"collect-{Interlocked.Increment(ref _programs)}";
        var name = $"Collection test {key}";
        var editor = portal.Database.Get<ProgramEditor>();
        var program = await editor.RegisterAsync(new ProgramDraft(key, name, "Prove the collection API", "Portal tests", LegalBasis.Consent), Priya, Cancellation);
        foreach (var category in categories.Length == 0 ? ["keystrokes", "transcriptions"] : categories)
            await editor.AddCategoryAsync(key, new CategoryDraft(category, category, "", "high", 30), Priya, Cancellation);
        var (collector, token) = await portal.Database.Get<CollectorRegistry>().CreateAsync(key, "Test agent", Priya, Cancellation);
        return new CollectingProgram(key, name, program.Id, program.CreatedAt, collector.Id, token);
    }

    /// <summary>A client that presents <paramref name="token"/> as a collector does.</summary>
    public static HttpClient Collector(this PortalFactory portal, string? token)
    {
        // No redirect handler: it reads the whole request body before sending, which a streamed body must not wait for.
        var client = portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static JsonObject Record(string subject, string category, DateTimeOffset? capturedAt = null, string payloadJson = """{"window":"Inbox","keys":12}""") => new()
    {
        ["subject"] = subject,
        ["category"] = category,
        ["capturedAt"] = (capturedAt ?? DateTimeOffset.UtcNow).ToString("O", CultureInfo.InvariantCulture),
        ["payload"] = JsonNode.Parse(payloadJson),
    };

    public static string Array(params IEnumerable<JsonNode> records) => new JsonArray(records.Select(r => r.DeepClone()).ToArray()).ToJsonString();

    public static StringContent Json(string body, string contentType = "application/json") => new(body, Encoding.UTF8, contentType);

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string body, string contentType = "application/json", string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, CollectPath) { Content = Json(body, contentType) };
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request, Cancellation);
    }

    /// <summary>A 200 answer: how many records were accepted, and (index, reason) for each one refused.</summary>
    public static async Task<(int Accepted, IReadOnlyList<(int Index, string Reason)> Rejected)> AnswerAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = JsonNode.Parse(text)!.AsObject();
        var rejected = answer["rejected"]!.AsArray().Select(r => ((int)r!["index"]!, (string)r["reason"]!)).ToList();
        return ((int)answer["accepted"]!, rejected);
    }

    /// <summary>A 200 answer with <paramref name="accepted"/> records stored and exactly <paramref name="rejected"/> refused.</summary>
    public static async Task AnswerIsAsync(HttpResponseMessage response, int accepted, params (int Index, string Reason)[] rejected)
    {
        var answer = await AnswerAsync(response);
        Assert.Equal(accepted, answer.Accepted);
        Assert.Equal(rejected, answer.Rejected);
    }

    /// <summary>An RFC 7807 answer with <paramref name="status"/>: problem+json with a title and a detail. Returns the body.</summary>
    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]), "the problem has a title");
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]), "the problem has a detail");
        return problem;
    }

    public static async Task<long> RecordsAsync(PortalFactory portal, CollectingProgram program)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records WHERE program_id = @Id", new { program.Id });
    }

    public static async Task<long> SubjectsNamedAsync(PortalFactory portal, string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM subjects WHERE email = @Email", new { Email = email });
    }

    public static async Task<long> SubjectIdAsync(PortalFactory portal, string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @Email", new { Email = email });
    }
}
