using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Web.Features.Audit;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>The auditors' checkpoint and proof API through the real host: what an auditor gets verifies offline; everyone else is refused.</summary>
public sealed class AuditApiTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly string[] Routes =
    [
        "/api/v1/audit/public-key", "/api/v1/audit/checkpoints", "/api/v1/audit/checkpoints/latest", "/api/v1/audit/checkpoints/1",
        "/api/v1/audit/proofs/inclusion?seq=1", "/api/v1/audit/proofs/consistency?from=1",
    ];

    private async Task<(Checkpoint Old, Checkpoint New)> TwoCheckpointsAsync()
    {
        var store = portal.Database.Get<CheckpointStore>();
        var old = await store.SignNowAsync(Cancellation);
        await using (var scope = await portal.Database.Get<GovernancePortal.Data.ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await portal.Database.Get<AuditLog>().AppendAsync(scope, new AuditEntry("priya@example.com", [Roles.PrivacyOfficer], "test.appended"));
            await scope.CommitAsync();
        }
        return (old, await store.SignNowAsync(Cancellation));
    }

    [Fact]
    public async Task Anonymous_IsUnauthorized_EvenWhenItAsksForAPage()
    {
        using var anonymous = portal.CreateBrowser();
        foreach (var route in Routes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, route);
            request.Headers.Accept.ParseAdd("text/html");
            using var response = await anonymous.SendAsync(request, Cancellation);
            Assert.Equal((route, HttpStatusCode.Unauthorized), (route, response.StatusCode));
        }
    }

    [Theory]
    [InlineData("priya@example.com")]
    [InlineData("alice@example.com")]
    [InlineData("admin@example.com")]
    [InlineData("dana@example.com")]
    public async Task OtherRoles_AreForbidden(string user)
    {
        await TwoCheckpointsAsync();
        using var client = await portal.SignedInAsAsync(user);
        foreach (var route in Routes)
        {
            using var response = await client.GetAsync(route, Cancellation);
            Assert.Equal((route, HttpStatusCode.Forbidden), (route, response.StatusCode));
        }
    }

    [Fact]
    public async Task Auditor_GetsKeysAndCheckpoints_ThatVerifyOffline()
    {
        var (old, current) = await TwoCheckpointsAsync();
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        var pem = await audrey.GetStringAsync("/api/v1/audit/public-key", Cancellation);
        var keys = SigningKeys.ParsePublicKeys(pem);
        var latest = await audrey.GetFromJsonAsync<AuditApiEndpoints.CheckpointJson>("/api/v1/audit/checkpoints/latest", Cancellation);
        var page = await audrey.GetFromJsonAsync<AuditApiEndpoints.CheckpointPage>("/api/v1/audit/checkpoints?limit=1", Cancellation);
        var next = await audrey.GetFromJsonAsync<AuditApiEndpoints.CheckpointPage>($"/api/v1/audit/checkpoints?limit=1&before={page!.NextBefore}", Cancellation);

        Assert.True(keys.Count >= 1);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(current.TreeSize, latest!.TreeSize);
        Assert.True(Checkpoint.Verify(Checkpoint.Parse(latest.Note), keys));
        Assert.Equal(current.TreeSize, Assert.Single(page.Checkpoints).TreeSize);
        Assert.True(Assert.Single(next!.Checkpoints).TreeSize < current.TreeSize);
        var bySize = await audrey.GetFromJsonAsync<AuditApiEndpoints.CheckpointJson>($"/api/v1/audit/checkpoints/{old.TreeSize}", Cancellation);
        Assert.Equal(old.Note, bySize!.Note);
    }

    [Fact]
    public async Task Auditor_InclusionAndConsistencyProofs_VerifyAgainstTheSignedRoots()
    {
        var (old, current) = await TwoCheckpointsAsync();
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        var inclusion = await audrey.GetFromJsonAsync<AuditApiEndpoints.InclusionJson>($"/api/v1/audit/proofs/inclusion?seq=2&size={old.TreeSize}", Cancellation);
        var consistency = await audrey.GetFromJsonAsync<AuditApiEndpoints.ConsistencyJson>($"/api/v1/audit/proofs/consistency?from={old.TreeSize}&to={current.TreeSize}", Cancellation);

        var signedOld = Checkpoint.Parse(inclusion!.Checkpoint.Note);
        Assert.Equal(old.RootHash, signedOld.RootHash);
        Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyInclusion(Convert.FromHexString(inclusion.LeafHash), inclusion.Index, signedOld.TreeSize,
            inclusion.Proof.Select(Convert.FromHexString).ToList(), signedOld.Root));
        Assert.Equal(ProofCheck.Ok, MerkleTree.VerifyConsistency(consistency!.FromSize, Checkpoint.Parse(consistency.From.Note).Root,
            consistency.ToSize, Checkpoint.Parse(consistency.To.Note).Root, consistency.Proof.Select(Convert.FromHexString).ToList()));
    }

    [Theory]
    [InlineData("/api/v1/audit/proofs/inclusion", 400)]
    [InlineData("/api/v1/audit/proofs/inclusion?seq=abc", 400)]
    [InlineData("/api/v1/audit/proofs/inclusion?seq=0", 400)]
    [InlineData("/api/v1/audit/proofs/inclusion?seq=-1", 400)]
    [InlineData("/api/v1/audit/proofs/inclusion?seq=999999999", 400)]
    [InlineData("/api/v1/audit/proofs/inclusion?seq=1&size=999999999", 404)]
    [InlineData("/api/v1/audit/proofs/consistency", 400)]
    [InlineData("/api/v1/audit/proofs/consistency?from=5&to=2", 400)]
    [InlineData("/api/v1/audit/proofs/consistency?from=999999999", 404)]
    [InlineData("/api/v1/audit/checkpoints?limit=0", 400)]
    [InlineData("/api/v1/audit/checkpoints?limit=501", 400)]
    [InlineData("/api/v1/audit/checkpoints?before=x", 400)]
    [InlineData("/api/v1/audit/checkpoints/x", 400)]
    [InlineData("/api/v1/audit/checkpoints/999999999", 404)]
    public async Task Auditor_BadParameters_AreProblemDetails(string url, int status)
    {
        await TwoCheckpointsAsync();
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");

        using var response = await audrey.GetAsync(url, Cancellation);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
    }
}
