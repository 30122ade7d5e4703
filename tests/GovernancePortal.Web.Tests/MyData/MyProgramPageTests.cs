using System.Globalization;
using System.Net;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Subjects;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.MyData;

/// <summary>The employee's program detail page, through the real host and the demo data (alice and bob have records in mci).</summary>
public sealed class MyProgramPageTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MyProgram_Alice_SeesTheNewestPreviewsOfHerOwnRecords()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");
        var expected = await NewestPreviewsAsync("alice@example.com");

        var page = await PageAsync(alice, "/me/programs/mci");

        Assert.Contains("Model Capability Initiative", page.Title);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, page.Previews);
    }

    [Fact]
    public async Task MyProgram_Bob_NeverSeesAlicesRecords_WhateverTheQueryString()
    {
        using var bob = await portal.SignedInAsAsync("bob@example.com");
        var alices = await NewestPreviewsAsync("alice@example.com");
        var bobs = await NewestPreviewsAsync("bob@example.com");
        var alicesOnly = alices.Except(bobs).ToList();
        var aliceId = await SubjectIdAsync("alice@example.com");

        foreach (var url in new[]
        {
            "/me/programs/mci",
            $"/me/programs/mci?subject={aliceId}&subjectId={aliceId}&gp_subject_id={aliceId}",
            "/me/programs/mci?category=transcriptions&from=2000-01-01&to=2100-01-01",
            "/me/programs/mci?category=../../&from=not-a-date&to=%00",
        })
        {
            var page = await PageAsync(bob, url);

            Assert.NotEmpty(page.Previews);
            Assert.All(page.Previews, preview => Assert.DoesNotContain("Alice", preview));
            Assert.All(alicesOnly, preview => Assert.DoesNotContain(preview, page.Html));
        }
        Assert.NotEmpty(alicesOnly);
        Assert.Equal(bobs, (await PageAsync(bob, "/me/programs/mci")).Previews);
    }

    [Fact]
    public async Task MyProgram_UnknownKey_ShowsNothingHeld_ExactlyAsAProgramThatHoldsNothingAboutMe()
    {
        // priya is an employee with no records: mci exists but holds nothing about her.
        using var priya = await portal.SignedInAsAsync("priya@example.com");

        var unknown = await PageAsync(priya, "/me/programs/no-such-program");
        var empty = await PageAsync(priya, "/me/programs/mci");

        Assert.Contains("Nothing held", unknown.Title);
        Assert.Empty(unknown.Previews);
        Assert.Equal(unknown.Main.Replace("no-such-program", "KEY"), empty.Main.Replace("mci", "KEY"));
        Assert.DoesNotContain("Model Capability Initiative", empty.Html);
    }

    [Fact]
    public async Task MyProgram_Anonymous_IsSentToSignIn()
    {
        using var anonymous = portal.CreateBrowser();

        using var response = await anonymous.GetPageAsync("/me/programs/mci");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var (path, returnUrl) = response.RedirectTarget("returnUrl");
        Assert.Contains(path, new[] { "/account/dev-sign-in", "/authentication/login" });
        Assert.Equal("/me/programs/mci", returnUrl);
    }

    [Fact]
    public async Task MyProgram_RecordsPerDayChart_IsNamedBySummary_AndItsFiguresAreATableOfTheSameCounts()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");

        var document = await alice.GetDocumentAsync("/me/programs/mci");

        var chart = document.QuerySelector("[role=img][aria-label^='Records per day']");
        Assert.NotNull(chart);
        var table = document.QuerySelector("[data-testid=per-day-table] table");
        Assert.NotNull(table);
        var categories = table.QuerySelectorAll("thead th").Select(th => th.TextContent.Trim()).ToList();
        Assert.Equal("Day (UTC)", categories[0]);
        Assert.Equal("All categories", categories[^1]);
        categories = categories[1..^1];
        var rows = table.QuerySelectorAll("tbody tr").Select(row => (
            Day: DateOnly.ParseExact(row.QuerySelector("th[scope=row] time")!.GetAttribute("datetime")!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            Counts: row.QuerySelectorAll("td").Select(cell => long.Parse(cell.TextContent, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToList())).ToList();
        Assert.Equal(30, rows.Count);

        var from = new DateTimeOffset(rows[0].Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var expected = await portal.Database.Get<MyRecords>().PerDayAsync(await SubjectIdAsync("alice@example.com"), "mci", from, from.AddDays(rows.Count), Cancellation);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(count => count.Category.Name).Distinct().Order(), categories.Order());
        for (var column = 0; column < categories.Count; column++)
        {
            var total = expected.Where(count => count.Category.Name == categories[column]).Sum(count => count.Count);
            Assert.Equal(total, rows.Sum(row => row.Counts[column]));
            Assert.Contains($"{categories[column]}: {total.ToString("N0", CultureInfo.InvariantCulture)}", chart.GetAttribute("aria-label"));
        }
        Assert.All(rows, row => Assert.Equal(row.Counts[..^1].Sum(), row.Counts[^1]));
    }

    private async Task<IReadOnlyList<string>> NewestPreviewsAsync(string email)
    {
        var page = await portal.Database.Get<MyRecords>().PageAsync(await SubjectIdAsync(email), "mci", null, null, null, 0, 25, Cancellation);
        return page.Records.Select(r => r.Preview).ToList();
    }

    private async Task<long> SubjectIdAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @email", new { email });
    }

    private static async Task<RenderedPage> PageAsync(HttpClient client, string url)
    {
        var document = await client.GetDocumentAsync(url);
        return new RenderedPage(
            document.Source.Text,
            document.Heading(),
            document.MainText(),
            document.QuerySelectorAll(".record-preview").Select(e => e.TextContent).ToList());
    }

    private sealed record RenderedPage(string Html, string Title, string Main, IReadOnlyList<string> Previews);
}
