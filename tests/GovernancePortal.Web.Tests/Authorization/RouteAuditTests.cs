using GovernancePortal.Audit;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Authorization;

/// <summary>
/// docs/audit-log.md: every read of another person's personal data is logged. Every route of the access table
/// that is for some roles only says what a GET by its first allowed demo user writes to the audit log, or why
/// it writes nothing; those that write are visited and the event is looked for. A new role-restricted route
/// without an entry here fails <see cref="EveryRoleRestrictedRoute_SaysWhatItLogs"/>. What the routes' actions
/// (pause, approve, revoke…) write is proved on the library's methods (AuditCoverageTests).
/// </summary>
public sealed class RouteAuditTests(AuthorizationMatrixTests.Portal portal) : IClassFixture<AuthorizationMatrixTests.Portal>
{
    private sealed record Logs(string? Action, string? Nothing);

    private static Logs Writes(string action) => new(action, null);

    private static Logs WritesNothing(string because) => new(null, because);

    private const string OwnData = "the signed-in person's own data, found by the session's subject";

    private static readonly Dictionary<string, Logs> Routes = new(StringComparer.Ordinal)
    {
        ["/me"] = WritesNothing(OwnData),
        ["/me/programs/{Key}"] = WritesNothing(OwnData),
        ["/me/access"] = WritesNothing(OwnData),
        ["/me/requests"] = WritesNothing(OwnData),
        ["/me/requests/{Reference}"] = WritesNothing(OwnData),
        ["/me/requests/{reference}/export.zip"] = WritesNothing(OwnData + "; a complete download is logged as request.export.delivered"),
        ["/requests"] = Writes(AuditActions.RequestQueueViewed),
        ["/programs"] = WritesNothing("the program register: programs and categories, no person's data"),
        ["/programs/{Key}"] = WritesNothing("one program, its categories, collectors and pauses; no person's data"),
        ["/grants/mine"] = WritesNothing("the consumer's own grants"),
        ["/grants/mine/{Id:long}"] = WritesNothing("the consumer's own grant and its history"),
        ["/grants/mine/{Id:long}/read/{Program}"] = Writes(AuditActions.RecordsRead),
        ["/grants/ask"] = WritesNothing("a form; the ask itself is logged as grant.requested"),
        ["/grants"] = WritesNothing("the officers' list of grants: staff's asks and decisions"),
        ["/grants/{Id:long}"] = WritesNothing("one grant's asks, reviews and end: staff's actions"),
        ["/grants/exposure/{Key}"] = WritesNothing("counts of people read per grant and the readers (staff); no employee named"),
        ["/retention"] = WritesNothing("retention runs and counts per category; no person's data"),
        ["/audit"] = Writes(AuditActions.AuditSearched),
        ["/admin/system"] = WritesNothing("system health: versions, schema, queue sizes; no person's data"),
        ["/admin/jobs/{**path}"] = WritesNothing("Hangfire's dashboard: job names, times and counts; jobs' arguments hold no person's data"),
        ["/holds"] = Writes(AuditActions.HoldsViewed),
        ["/holds/new"] = WritesNothing("a form; placing the hold is logged as hold.placed"),
        ["/me/requests/{reference}/receipt"] = WritesNothing(OwnData + ": the signed receipt of their own erasure"),
        ["/pauses"] = WritesNothing("the pause checks: each pause and the count of records received after it; no person's data"),
        ["/api/v1/audit/export"] = Writes(AuditActions.AuditExported),
        ["/api/v1/audit/export/manifest"] = Writes(AuditActions.AuditManifestSigned),
        ["/audit/export"] = WritesNothing("the chain's head, last checkpoint and last verification: hashes and times; the export itself is logged"),
        ["/api/v1/audit/public-key"] = WritesNothing("the portal's public signing keys"),
        ["/api/v1/audit/checkpoints"] = WritesNothing("signed tree heads: sizes, roots and signatures, no event's fields"),
        ["/api/v1/audit/checkpoints/latest"] = WritesNothing("one signed tree head: hashes and a signature, no event's fields"),
        ["/api/v1/audit/checkpoints/{size}"] = WritesNothing("one signed tree head: hashes and a signature, no event's fields"),
        ["/api/v1/audit/proofs/inclusion"] = WritesNothing("an inclusion proof: hashes only, no event's fields"),
        ["/api/v1/audit/proofs/consistency"] = WritesNothing("a consistency proof: hashes only, no event's fields"),
    };

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string> Writers => new(Routes.Where(route => route.Value.Action is not null).Select(route => route.Key));

    [Fact]
    public void EveryRoleRestrictedRoute_SaysWhatItLogs()
    {
        var restricted = AuthorizationMatrixTests.Expected
            .Where(route => route.Who.Roles is { Count: > 0 } && route.EachMethod.Contains("GET") || route.Methods == "*" && route.Who.Roles is { Count: > 0 })
            .Select(route => route.Pattern).ToHashSet(StringComparer.Ordinal);

        Assert.True(restricted.SetEquals(Routes.Keys),
            $"Role-restricted routes without an entry (say what a read logs): {string.Join(", ", restricted.Except(Routes.Keys).Order())}. " +
            $"Entries for routes that are gone: {string.Join(", ", Routes.Keys.Except(restricted).Order())}.");
    }

    [Theory, MemberData(nameof(Writers))]
    public async Task ARead_LeavesItsEvent_ByTheReader(string pattern)
    {
        var route = AuthorizationMatrixTests.Expected.Single(entry => entry.Pattern == pattern && entry.EachMethod.Contains("GET"));
        var reader = Callers.DemoUsers.First(caller => route.Who.Allows(Callers.RolesOf(caller)));
        await using var connection = await portal.Database.OpenAsync();
        var before = (await connection.AuditEventsAsync()).Count;

        using var response = await (await portal.BrowserFor(reader)).GetPageAsync(route.SampleUrl);
        await response.Content.ReadAsStringAsync(Cancellation);

        var written = await connection.AuditEventsAsync(before + 1);
        Assert.Contains(written, e => e.Action == Routes[pattern].Action && e.Actor == reader);
    }
}
