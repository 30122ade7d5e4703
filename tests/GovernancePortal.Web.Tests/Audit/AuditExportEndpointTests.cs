using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary><c>/api/v1/audit/export</c> and its manifest through the real host, with the demo data's log.</summary>
public sealed class AuditExportEndpointTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Export_Audrey_GetsTheRangeAsCsv_WithItsManifest_WhichVerifiesOffline()
    {
        await AppendEventsAsync(6);
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        using var export = await audrey.GetAsync("/api/v1/audit/export?from=1&to=5&format=csv", Cancellation);
        var bytes = await export.Content.ReadAsByteArrayAsync(Cancellation);
        using var manifestResponse = await audrey.GetAsync("/api/v1/audit/export/manifest?from=1&to=5&format=csv", Cancellation);
        var manifest = AuditExportManifest.Parse(await manifestResponse.Content.ReadAsStringAsync(Cancellation));

        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("text/csv", export.Content.Headers.ContentType?.MediaType);
        Assert.Equal("audit-1-5.csv", export.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("1-5", export.Headers.GetValues("Audit-Range").Single());
        Assert.Contains("/api/v1/audit/export/manifest?from=1&to=5&format=csv", export.Headers.GetValues("Link").Single());
        Assert.Equal(6, bytes.Count(b => b == (byte)'\n'));
        Assert.Equal(HttpStatusCode.OK, manifestResponse.StatusCode);
        Assert.Equal((5L, Convert.ToHexStringLower(SHA256.HashData(bytes)), (long)bytes.Length), (manifest.Count, manifest.ExportSha256, manifest.ExportBytes));
        var keys = SigningKeys.ParsePublicKeys(string.Concat((await portal.Services.GetRequiredService<SigningKeys>().PublicKeysAsync(Cancellation)).Select(k => k.Pem)));
        var verified = await AuditExportVerifier.VerifyAsync(new MemoryStream(bytes), manifest, keys, Cancellation);
        Assert.True(verified.Verified, verified.Message);

        await using var connection = await portal.Database.OpenAsync();
        var events = await connection.AuditEventsAsync();
        Assert.Contains(events, e => (e.Action, e.Actor, e.Detail) == (AuditActions.AuditExported, "audrey@example.com", "seq 1-5 as csv"));
        Assert.Contains(events, e => (e.Action, e.Actor, e.Detail) == (AuditActions.AuditManifestSigned, "audrey@example.com", "seq 1-5 as csv"));
    }

    [Fact]
    public async Task Export_Jsonl_WithoutBounds_IsTheWholeLog_UpToItsHeadBeforeTheExportsOwnEvent()
    {
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        using var export = await audrey.GetAsync("/api/v1/audit/export?format=jsonl", Cancellation);
        var lines = (await export.Content.ReadAsStringAsync(Cancellation)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("application/jsonl", export.Content.Headers.ContentType?.MediaType);
        var range = export.Headers.GetValues("Audit-Range").Single().Split('-').Select(long.Parse).ToArray();
        Assert.Equal(1, range[0]);
        Assert.Equal(range[1], lines.Length);
        Assert.Equal(range[1], JsonDocument.Parse(lines[^1]).RootElement.GetProperty("seq").GetInt64());
    }

    [Theory]
    [InlineData("/api/v1/audit/export?from=0", "from is a seq of at least 1")]
    [InlineData("/api/v1/audit/export?from=3&to=2", "from must not be after to")]
    [InlineData("/api/v1/audit/export?to=99999999", "but the log ends at seq")]
    [InlineData("/api/v1/audit/export?format=xml", "format is csv or jsonl")]
    [InlineData("/api/v1/audit/export?from=yesterday", "is neither")]
    [InlineData("/api/v1/audit/export/manifest?from=2030-01-01", "No event lies in that range")]
    public async Task Export_BadParameters_Are400ProblemDetails(string url, string reason)
    {
        await AppendEventsAsync(3);
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        using var response = await audrey.GetAsync(url, Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains(reason, problem.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("priya@example.com")]
    [InlineData("dana@example.com")]
    [InlineData("admin@example.com")]
    public async Task Export_OtherRoles_Are403_AndNothingIsExportedOrLogged(string email)
    {
        using var user = await portal.SignedInAsAsync(email);
        var before = await ExportEventsAsync();

        using var export = await user.GetAsync("/api/v1/audit/export", Cancellation);
        using var manifest = await user.GetAsync("/api/v1/audit/export/manifest", Cancellation);

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (export.StatusCode, manifest.StatusCode));
        Assert.DoesNotContain("hash", await export.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(before, await ExportEventsAsync());
    }

    [Fact]
    public async Task Export_Anonymous_IsRefused()
    {
        using var anonymous = portal.CreateBrowser();

        using var export = await anonymous.GetAsync("/api/v1/audit/export", Cancellation);
        using var manifest = await anonymous.GetAsync("/api/v1/audit/export/manifest", Cancellation);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (export.StatusCode, manifest.StatusCode));
    }

    /// <summary>Events by a job, so that the demo log (one event) has a few more to export.</summary>
    private async Task AppendEventsAsync(int count)
    {
        await using var scope = await portal.Services.GetRequiredService<ConnectionFactory>().BeginWriteAsync(Cancellation);
        for (var i = 0; i < count; i++)
            await portal.Services.GetRequiredService<AuditLog>().AppendAsync(scope, new AuditEntry("system", [], AuditActions.RecordsPurged, RecordCount: i));
        await scope.CommitAsync();
    }

    private async Task<int> ExportEventsAsync()
    {
        await using var connection = await portal.Database.OpenAsync();
        return (await connection.AuditEventsAsync()).Count(e => e.Action is AuditActions.AuditExported or AuditActions.AuditManifestSigned);
    }
}
