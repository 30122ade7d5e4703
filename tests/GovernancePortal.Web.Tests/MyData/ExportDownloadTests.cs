using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.MyData;

/// <summary>
/// The employee's copy of their data through the real host: <c>/me/requests/{reference}</c> and its
/// download, with the demo data (alice and bob have records in mci).
/// </summary>
public sealed class ExportDownloadTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Download_Alice_GetsAZipOfHerRecords_AndHerRequestPageShowsTheReceipt()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");
        var request = await ExportRequestAsync(portal.Database, "alice@example.com");
        var before = await PageAsync(alice, $"/me/requests/{request.Reference}");

        using var response = await alice.GetAsync($"/me/requests/{request.Reference}/export.zip", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"my-data-{request.Reference}.zip", response.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var bytes = await response.Content.ReadAsByteArrayAsync(Cancellation);
        var records = RecordsIn(bytes);
        Assert.Equal(await RecordCountAsync(portal.Database, "alice@example.com"), records.Count);
        Assert.NotEmpty(records);
        Assert.All(records, record => Assert.Equal("open", record.GetProperty("state").GetString()));

        Assert.Equal("Ready to download", before.Status.Trim());
        Assert.Equal("", before.Receipt);
        var page = await PageAsync(alice, $"/me/requests/{request.Reference}");
        Assert.Contains(request.Reference, page.Main);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(bytes)), page.Receipt);
        Assert.Contains($"{records.Count:N0} records", page.Receipt);
        Assert.Contains("Completed", page.Status);
    }

    [Fact]
    public async Task Download_Bob_CannotReachAlicesExport_GuessedTamperedOrReplayed()
    {
        using var bob = await portal.SignedInAsAsync("bob@example.com");
        var alices = await ExportRequestAsync(portal.Database, "alice@example.com");
        var bobs = await ExportRequestAsync(portal.Database, "bob@example.com");
        var aliceId = await SubjectIdAsync(portal.Database, "alice@example.com");

        foreach (var url in new[]
        {
            $"/me/requests/{alices.Reference}/export.zip",
            $"/me/requests/{alices.Reference}/export.zip?subject={aliceId}&subjectId={aliceId}",
            $"/me/requests/{alices.Reference.ToLowerInvariant()}/export.zip",
            $"/me/requests/{bobs.Reference}%2F..%2F{alices.Reference}/export.zip",
            $"/me/requests/{alices.Reference}%20/export.zip",
            "/me/requests/EXP-AAAA-AAAA/export.zip",
            $"/me/requests/{new string('X', 5_000)}/export.zip",
        })
        {
            using var response = await bob.GetAsync(url, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url}: {(int)response.StatusCode}");
            Assert.NotEqual("application/zip", response.Content.Headers.ContentType?.MediaType);
        }

        // The page of alice's reference reads exactly as the page of a reference that does not exist.
        var guessed = await PageAsync(bob, $"/me/requests/{alices.Reference}");
        var unknown = await PageAsync(bob, "/me/requests/EXP-AAAA-AAAA");
        Assert.Equal("No such request", guessed.Title);
        Assert.Equal(unknown.Main.Replace("EXP-AAAA-AAAA", "REF"), guessed.Main.Replace(alices.Reference, "REF"));
        Assert.DoesNotContain("Download", guessed.Main);

        var untouched = await portal.Database.Get<RequestDesk>().GetForSubjectAsync(aliceId, alices.Reference, Cancellation);
        Assert.Equal(RequestStatus.Received, untouched.Status);
        Assert.Null(untouched.ProgressTotal);

        // Bob's own export opens for him, so the refusals above are about whose it is.
        using var own = await bob.GetAsync($"/me/requests/{bobs.Reference}/export.zip", Cancellation);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(await RecordCountAsync(portal.Database, "bob@example.com"), RecordsIn(await own.Content.ReadAsByteArrayAsync(Cancellation)).Count);
    }

    [Fact]
    public async Task Download_OfAnErasureRequest_IsNotFound()
    {
        using var alice = await portal.SignedInAsAsync("alice@example.com");
        var aliceId = await SubjectIdAsync(portal.Database, "alice@example.com");
        var erasure = await portal.Database.Get<RequestDesk>().SubmitAsync(aliceId, RequestKind.Erasure, "endpoint-security", null, Alice(aliceId), Cancellation);

        using var response = await alice.GetAsync($"/me/requests/{erasure.Reference}/export.zip", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var page = await PageAsync(alice, $"/me/requests/{erasure.Reference}");
        Assert.Contains("Erasure (endpoint-security)", page.Main);
        Assert.DoesNotContain("Download my data", page.Main);
    }

    [Fact]
    public async Task Download_InterruptedByClosingTheBrowser_OnKestrel_LeavesTheRequestOpen_AndItsPageSaysSo()
    {
        await using var kestrel = PortalFactory.For(Engine.Sqlite);
        kestrel.UseKestrel(0);
        await kestrel.InitializeAsync();
        var aliceId = await SubjectIdAsync(kestrel.Database, "alice@example.com");
        await AddNoisyRecordsAsync(kestrel.Database, aliceId, 20_000);
        var request = await ExportRequestAsync(kestrel.Database, "alice@example.com");
        kestrel.StartServer();
        var address = kestrel.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var alice = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(address) };
        using (var signIn = await DevSignIn.SubmitAsync(alice, "alice@example.com"))
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        using (var response = await alice.GetAsync($"/me/requests/{request.Reference}/export.zip", HttpCompletionOption.ResponseHeadersRead, Cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync(Cancellation);
            var first = new byte[64 * 1024];
            await body.ReadAtLeastAsync(first, first.Length, cancellationToken: Cancellation);
            Assert.Equal("PK"u8.ToArray(), first[..2]);
        }

        var stopped = await WaitForAsync(kestrel.Database, aliceId, request.Reference, r => r.ProgressStoppedAt is not null);
        Assert.Equal(RequestStatus.InProgress, stopped.Status);
        Assert.Null(stopped.Receipt);
        Assert.Equal(await RecordCountAsync(kestrel.Database, "alice@example.com"), stopped.ProgressTotal);
        Assert.InRange(stopped.ProgressDone!.Value, 0, stopped.ProgressTotal!.Value - 1);
        var page = await PageAsync(alice, $"/me/requests/{request.Reference}");
        Assert.Contains("Your last download stopped at", page.Main);
        Assert.Contains($"of {stopped.ProgressTotal:N0} records", page.Main);
    }

    private static Actor Alice(long subjectId) => new("alice@example.com", [Roles.Employee], subjectId);

    private static async Task<DataRequest> ExportRequestAsync(TestDatabase database, string email)
    {
        var subjectId = await SubjectIdAsync(database, email);
        return await database.Get<RequestDesk>().SubmitAsync(subjectId, RequestKind.Export, null, null, new Actor(email, [Roles.Employee], subjectId), Cancellation);
    }

    private static async Task<DataRequest> WaitForAsync(TestDatabase database, long subjectId, string reference, Func<DataRequest, bool> condition)
    {
        var desk = database.Get<RequestDesk>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var request = await desk.GetForSubjectAsync(subjectId, reference, Cancellation);
            if (condition(request) || DateTime.UtcNow > deadline)
                return condition(request) ? request : throw new TimeoutException($"The request never reached the expected state: {request}");
            await Task.Delay(100, Cancellation);
        }
    }

    private static async Task AddNoisyRecordsAsync(TestDatabase database, long subjectId, int count)
    {
        await using var connection = await database.OpenAsync();
        var (programId, categoryId) = await connection.QuerySingleAsync<(long, long)>(
            "SELECT p.id, c.id FROM programs p JOIN categories c ON c.program_id = p.id WHERE p.key = 'mci' ORDER BY c.id LIMIT 1");
        await using var scope = await database.Get<ConnectionFactory>().BeginWriteAsync();
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        await database.Get<RecordStore>().AddAsync(scope, Enumerable.Range(0, count)
            .Select(i => new NewRecord(programId, categoryId, subjectId, start.AddMilliseconds(i), $$"""{"noise":"{{Convert.ToBase64String(RandomNumberGenerator.GetBytes(384))}}"}"""))
            .ToList());
        await scope.CommitAsync();
    }

    private static async Task<long> SubjectIdAsync(TestDatabase database, string email)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @email", new { email });
    }

    private static async Task<long> RecordCountAsync(TestDatabase database, string email)
    {
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM records r JOIN subjects s ON s.id = r.subject_id WHERE s.email = @email", new { email });
    }

    private static List<JsonElement> RecordsIn(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        using var records = zip.GetEntry("records.json")!.Open();
        return JsonDocument.Parse(records).RootElement.EnumerateArray().Select(element => element.Clone()).ToList();
    }

    private static async Task<RenderedPage> PageAsync(HttpClient client, string url)
    {
        var document = await client.GetDocumentAsync(url);
        return new RenderedPage(
            document.Heading(),
            document.MainText(),
            document.QuerySelector("[data-testid=status]")?.TextContent ?? "",
            document.QuerySelector("[data-testid=receipt]")?.TextContent ?? "");
    }

    private sealed record RenderedPage(string Title, string Main, string Status, string Receipt);
}
