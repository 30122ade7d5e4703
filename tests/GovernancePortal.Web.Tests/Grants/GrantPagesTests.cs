using System.Net;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Grants;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Grants;

/// <summary>
/// The grant pages through the real host and the demo data: dana's grant 1 on mci (keystrokes, mouse movements).
/// What a consumer can put in the URL never widens what they read.
/// </summary>
public sealed class GrantPagesTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private const long DanasGrant = 1;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadPage_Dana_SeesRecordsOfHerGrantsCategories_AndEachPersonOnThePageIsLoggedFirst()
    {
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        var before = await ReadEventsAsync();

        var page = await dana.GetDocumentAsync($"/grants/mine/{DanasGrant}/read/mci?person=alice@example.com");

        var rows = page.QuerySelectorAll("[data-testid=read-records] tbody tr");
        Assert.Equal(25, rows.Length);
        Assert.All(rows, row => Assert.Contains(row.Children[2].TextContent.Trim(), new[] { "keystrokes", "mouse_movements" }));
        Assert.All(rows, row => Assert.Equal("alice@example.com", row.Children[1].TextContent.Trim()));
        var logged = (await ReadEventsAsync()).Skip(before.Count).ToList();
        var read = Assert.Single(logged);
        Assert.Equal(("dana@example.com", 25L, DanasGrant), (read.Actor, read.RecordCount!.Value, RecordAccessDetail.Read(read.Detail).GrantId!.Value));
        Assert.Single(page.QuerySelectorAll("h1"));
    }

    [Fact]
    public async Task ReadPage_AnotherConsumersGrantId_IsNotFound_AndReadsNothing()
    {
        var erinsGrant = await ActiveGrantAsync("erin@example.com", Roles.DataConsumer);
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        var before = await ReadEventsAsync();

        using var read = await dana.GetPageAsync($"/grants/mine/{erinsGrant}/read/mci");
        using var detail = await dana.GetPageAsync($"/grants/mine/{erinsGrant}");
        using var missing = await dana.GetPageAsync("/grants/mine/987654/read/mci");

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, detail.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain("erin@example.com", await read.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(before.Count, (await ReadEventsAsync()).Count);
    }

    [Fact]
    public async Task ReadPage_ProgramAsGrant_OnProgramBsPage_IsNotFound()
    {
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        var before = await ReadEventsAsync();

        using var response = await dana.GetPageAsync($"/grants/mine/{DanasGrant}/read/endpoint-security");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(before.Count, (await ReadEventsAsync()).Count);
    }

    [Fact]
    public async Task ReadPage_CategoryOutsideTheGrant_InTheQueryString_IsRefused_AndShowsNoRecord()
    {
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        var before = await ReadEventsAsync();

        var page = await dana.GetDocumentAsync($"/grants/mine/{DanasGrant}/read/mci?category=transcriptions");

        Assert.Contains("does not cover transcriptions", page.QuerySelector("[data-testid=read-error]")?.TextContent);
        Assert.Null(page.QuerySelector("[data-testid=read-records]"));
        Assert.Equal(before.Count, (await ReadEventsAsync()).Count);
    }

    [Fact]
    public async Task ReadPage_APageSizeOfAMillion_ShowsAtMostTheMaximum()
    {
        using var dana = await portal.SignedInAsAsync("dana@example.com");

        var page = await dana.GetDocumentAsync($"/grants/mine/{DanasGrant}/read/mci?size=1000000");

        Assert.Equal(GrantReader.MaxPageSize, page.QuerySelectorAll("[data-testid=read-records] tbody tr").Length);
    }

    [Fact]
    public async Task ReadPage_AfterAnOfficerEndsTheGrant_SaysWhy_AndShowsNoRecord()
    {
        var grant = await ActiveGrantAsync("dana@example.com", Roles.DataConsumer);
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        Assert.NotNull((await dana.GetDocumentAsync($"/grants/mine/{grant}/read/mci")).QuerySelector("[data-testid=read-records]"));
        await portal.Database.Get<GrantDesk>().EndAsync(grant, "The study is over", await PersonAsync("omar@example.com", Roles.PrivacyOfficer), Cancellation);

        var page = await dana.GetDocumentAsync($"/grants/mine/{grant}/read/mci");

        Assert.Contains("The study is over", page.QuerySelector("[data-testid=read-stopped]")?.TextContent);
        Assert.Null(page.QuerySelector("[data-testid=read-records]"));
    }

    [Fact]
    public async Task ReviewPage_Officer_SeesTheHistory_AndTheConsumersOwnPageShowsTheNote()
    {
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        using var dana = await portal.SignedInAsAsync("dana@example.com");

        var review = await priya.GetDocumentAsync($"/grants/{DanasGrant}");
        var own = await dana.GetDocumentAsync($"/grants/mine/{DanasGrant}");
        var queue = await priya.GetDocumentAsync("/grants");
        using var unknown = await priya.GetPageAsync("/grants/987654");

        Assert.Contains("Approved for keystrokes and mouse movements", review.QuerySelector("[data-testid=grant-history]")?.TextContent);
        Assert.Contains("Approved for keystrokes and mouse movements", own.QuerySelector("[data-testid=grant-history]")?.TextContent);
        Assert.Equal("keystrokes, mouse_movements", own.QuerySelector("[data-testid=grant-categories]")?.TextContent.Trim());
        Assert.Contains("dana@example.com", queue.MainText());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task AskPage_LabelsEveryInput_AndStartsDisabledUntilLive()
    {
        using var dana = await portal.SignedInAsAsync("dana@example.com");

        var page = await dana.GetDocumentAsync("/grants/ask");

        Assert.Equal("Ask for access", page.Heading());
        foreach (var label in new[] { "Program", "Purpose", "Justification", "Ends (at the start of that day, UTC)" })
            Assert.Contains(page.QuerySelectorAll("label"), l => l.TextContent.Trim().StartsWith(label, StringComparison.Ordinal));
        var ask = Assert.Single(page.QuerySelectorAll(".mud-main-content button"), b => b.TextContent.Contains("Ask for the grant", StringComparison.Ordinal));
        Assert.True(ask.HasAttribute("disabled"), "the action is disabled in the prerendered page");
    }

    [Fact]
    public async Task MyData_Alice_SeesThatDanasGrantCanReadHerData_ByRoleAndPurpose_AndTheExposureReportCountsTheReads()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");
        using var dana = await portal.SignedInAsAsync("dana@example.com");
        using var priya = await portal.SignedInAsAsync("priya@example.com");
        await dana.GetDocumentAsync($"/grants/mine/{DanasGrant}/read/mci?person=alice@example.com&size=3");

        var mine = await alice.GetDocumentAsync("/me");
        var exposure = await priya.GetDocumentAsync("/grants/exposure/mci");
        using var unknown = await priya.GetPageAsync("/grants/exposure/no-such-program");

        var readers = mine.QuerySelector("[data-testid=readers-now]")?.TextContent ?? "";
        Assert.Contains("Data consumer", readers);
        Assert.Contains("model-training", readers);
        Assert.DoesNotContain("dana@example.com", readers);
        Assert.True(long.Parse(exposure.QuerySelector("[data-testid=people-read]")!.TextContent, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("dana@example.com", exposure.QuerySelector("[data-testid=exposure-readers]")?.TextContent);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private async Task<IReadOnlyList<AuditEvent>> ReadEventsAsync()
    {
        await using var connection = await portal.Database.OpenAsync();
        return (await connection.AuditEventsAsync()).Where(e => e.Action == AuditActions.RecordsRead).ToList();
    }

    /// <summary>The person as an actor in <paramref name="role"/> (and Employee); one who is no demo user is recorded as a subject first.</summary>
    private async Task<Actor> PersonAsync(string email, string role)
    {
        await using var connection = await portal.Database.OpenAsync();
        var id = await connection.ExecuteScalarAsync<long?>("SELECT id FROM subjects WHERE email = @email", new { email })
            ?? await connection.ExecuteScalarAsync<long>("INSERT INTO subjects (email, display_name, created_at) VALUES (@email, @email, @Now) RETURNING id",
                new { email, Now = DateTimeOffset.UtcNow });
        return new Actor(email, [role, Roles.Employee], id);
    }

    /// <summary>An active grant on mci keystrokes held by <paramref name="email"/>, approved by priya.</summary>
    private async Task<long> ActiveGrantAsync(string email, string role)
    {
        var desk = portal.Database.Get<GrantDesk>();
        var id = await desk.AskAsync(new GrantAsk("mci", ["keystrokes"], "Measure how often the assistant's completions are accepted", "Only keystrokes show it.",
            DateTimeOffset.UtcNow.AddDays(10)), await PersonAsync(email, role), Cancellation);
        await desk.ReviewAsync(id, approve: true, "Fine", await PersonAsync("priya@example.com", Roles.PrivacyOfficer), Cancellation);
        return id;
    }
}
