using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Audit;

/// <summary>A break in the log, found by the verification job, is on the home page of officers and auditors, and only theirs.</summary>
public sealed class AuditIntegrityAlertTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(Engine.Sqlite)]
    [InlineData(Engine.Postgres)]
    public async Task TamperedEvent_VerificationJobRecordsItsSeq_AndOfficersAndAuditorsSeeTheAlert(Engine engine)
    {
        await using var portal = PortalFactory.For(engine);
        await portal.InitializeAsync();
        var verifier = portal.Database.Get<AuditVerifier>();
        await portal.Database.Get<CheckpointStore>().SignNowAsync(Cancellation);
        var clean = await verifier.RunAsync(Cancellation);
        using var audrey = await portal.SignedInAsAsync("audrey@example.com");
        Assert.True(clean.Ok, clean.Problem);
        Assert.Null((await audrey.GetDocumentAsync("/")).QuerySelector("[data-testid=audit-integrity-alert]"));

        await using (var connection = await portal.Database.OpenAsync())
            await connection.ExecuteAsync("UPDATE audit_events SET actor = 'nobody@example.com' WHERE seq = 2");
        await portal.Database.Get<AuditVerificationJob>().RunAsync(Cancellation);

        var run = await verifier.LatestAsync(Cancellation);
        Assert.Equal((false, 2L), (run!.Ok, run.FirstBadSeq));
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        using var alice = await portal.SignedInAsAsync("alice@example.com");
        foreach (var officerOrAuditor in new[] { audrey, priya })
        {
            var alert = (await officerOrAuditor.GetDocumentAsync("/")).QuerySelector("[data-testid=audit-integrity-alert]");
            Assert.NotNull(alert);
            Assert.Contains("First bad event: seq 2", alert.TextContent, StringComparison.Ordinal);
            Assert.Contains("event 2 was changed", alert.TextContent, StringComparison.Ordinal);
        }
        Assert.Null((await alice.GetDocumentAsync("/")).QuerySelector("[data-testid=audit-integrity-alert]"));
    }
}
