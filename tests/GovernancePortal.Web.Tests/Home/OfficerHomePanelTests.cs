using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Home;
using GovernancePortal.Jobs;
using GovernancePortal.Programs;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Home;

/// <summary>The officers' home panel and the pause checks page, through the real host over the demo data.</summary>
public sealed class OfficerHomePanelTests
{
    private static readonly Actor Priya = new("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee]);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static async Task<PortalFactory> PortalAsync()
    {
        var portal = PortalFactory.For(Engine.Sqlite);
        await portal.InitializeAsync();
        return portal;
    }

    /// <summary>alice's erasure request overdue and flagged, a pause of mci's keystrokes that a record got past, a failed job run.</summary>
    private static async Task MakeWorkAsync(TestDatabase db)
    {
        long alice, programId, keystrokes;
        await using (var connection = await db.OpenAsync())
        {
            alice = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'alice@example.com'");
            programId = await connection.ExecuteScalarAsync<long>("SELECT id FROM programs WHERE key = 'mci'");
            keystrokes = await connection.ExecuteScalarAsync<long>("SELECT id FROM categories WHERE program_id = @programId AND key = 'keystrokes'", new { programId });
        }
        var request = await db.Get<RequestDesk>().SubmitAsync(alice, RequestKind.Erasure, "mci", null, new Actor("alice@example.com", [Roles.Employee], alice), Cancellation);
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE requests SET due_at = @Due WHERE id = @Id", new { Due = StoredTime.Normalize(DateTimeOffset.UtcNow.AddDays(-2)), request.Id });
        await db.Get<RequestDeadlines>().RunAsync(Cancellation);

        await db.Get<PauseSwitch>().PauseAsync("mci", ["keystrokes"], "Complaint about keystroke capture", Priya, Cancellation);
        await Task.Delay(10, Cancellation);
        await using (var scope = await db.Get<ConnectionFactory>().BeginWriteAsync(Cancellation))
        {
            await db.Get<RecordStore>().AddAsync(scope, [new NewRecord(programId, keystrokes, alice, DateTimeOffset.UtcNow, """{"late":true}""")]);
            await scope.CommitAsync();
        }
        await db.Get<PauseCheck>().RunAsync(Cancellation);

        await Assert.ThrowsAsync<TimeoutException>(() => db.Get<JobRuns>().RecordAsync<int>("grant-expiry", _ => throw new TimeoutException(), _ => "", Cancellation));
    }

    private static string Cell(AngleSharp.Dom.IDocument page, string row) =>
        page.QuerySelector($"[data-testid={row}] td")?.TextContent.Trim() ?? throw new InvalidOperationException($"No row {row} on the page.");

    [Fact]
    public async Task Home_Officer_SeesEachCount_WithItsLink()
    {
        await using var portal = await PortalAsync();
        await MakeWorkAsync(portal.Database);
        var expected = await portal.Database.Get<OfficerHome>().SummaryAsync(new GovernancePortal.Access.Actor("priya@example.com", [GovernancePortal.Access.Roles.PrivacyOfficer]), Cancellation);
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var page = await priya.GetDocumentAsync("/");

        Assert.Equal("1", Cell(page, "attention-overdue"));
        Assert.Equal("none", Cell(page, "attention-due-soon"));
        Assert.Equal("1", Cell(page, "attention-pause-alerts"));
        Assert.Equal("none", Cell(page, "attention-pause-reviews"));
        Assert.StartsWith("1", Cell(page, "attention-failed-jobs"));
        Assert.Contains("grant-expiry", Cell(page, "attention-failed-jobs"));
        Assert.StartsWith(expected.RetentionOverdueRecords == 0 ? "none" : expected.RetentionOverdueRecords.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
            Cell(page, "attention-retention"));
        Assert.Null(page.QuerySelector("[data-testid=attention-holds]"));
        Assert.Equal("/requests", page.QuerySelector("[data-testid=attention-overdue] a")?.GetAttribute("href"));
        Assert.Equal("/pauses", page.QuerySelector("[data-testid=attention-pause-alerts] a")?.GetAttribute("href"));
        Assert.Equal("/retention", page.QuerySelector("[data-testid=attention-retention] a")?.GetAttribute("href"));
    }

    [Fact]
    public async Task Home_OfAnEmployeeAnAuditorOrAConsumer_HasNoOfficerPanel()
    {
        await using var portal = await PortalAsync();
        await MakeWorkAsync(portal.Database);

        foreach (var email in new[] { "alice@example.com", "audrey@example.com", "dana@example.com", "admin@example.com" })
        {
            using var client = await portal.SignedInAsAsync(email);
            var page = await client.GetDocumentAsync("/");
            Assert.Null(page.QuerySelector("[data-testid=officer-attention]"));
        }
    }

    [Fact]
    public async Task Queue_ShowsTheDeadlineFlag()
    {
        await using var portal = await PortalAsync();
        await MakeWorkAsync(portal.Database);
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var page = await priya.GetDocumentAsync("/requests");

        Assert.Equal(["Flagged overdue"], page.QuerySelectorAll("[data-testid=deadline-flag]").Select(chip => chip.TextContent.Trim()));
    }

    [Fact]
    public async Task Pauses_Officer_SeesTheAlert_AndTheScope()
    {
        await using var portal = await PortalAsync();
        await MakeWorkAsync(portal.Database);
        using var omar = await portal.SignedInAsAsync("omar@example.com");

        var page = await omar.GetDocumentAsync("/pauses");

        Assert.Equal("Pause checks", page.Heading());
        var row = Assert.Single(page.QuerySelectorAll("[data-testid=pause-checks] tbody tr"));
        Assert.Contains("keystrokes", row.TextContent);
        Assert.Contains("1: alert", row.TextContent);
        Assert.Contains("open 0 days", row.TextContent);
    }

    [Fact]
    public async Task Pauses_BeforeAnyCheck_SaysSo()
    {
        await using var portal = await PortalAsync();
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var page = await priya.GetDocumentAsync("/pauses");

        Assert.Contains("No pause has been checked yet", page.MainText());
    }
}
