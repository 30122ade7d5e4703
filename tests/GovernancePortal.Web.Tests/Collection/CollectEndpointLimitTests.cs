using System.Diagnostics;
using System.Net;
using System.Text;
using GovernancePortal.Collection;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static GovernancePortal.Web.Tests.Collection.CollectApi;

namespace GovernancePortal.Web.Tests.Collection;

/// <summary>The collection API under settings of its own: a low rate limit, a short body timeout, a database that goes away.</summary>
public sealed class CollectEndpointLimitTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private const string ClientAddressHeader = "X-Test-Client-Address";

    private static async Task<PortalFactory> PortalAsync(params (string Key, string Value)[] settings)
    {
        var portal = PortalFactory.For(Engine.Sqlite, settings.ToDictionary(s => s.Key, s => (string?)s.Value),
            testServices: services => services.AddSingleton<IStartupFilter, ClientAddressFromHeader>());
        await portal.InitializeAsync();
        return portal;
    }

    [Fact]
    public async Task Collect_AnAddressThatKeepsPresentingBadTokens_Is429WithRetryAfter_EvenForAGoodToken_WhileOtherAddressesAreServed()
    {
        await using var portal = await PortalAsync(("Collection:FailedTokenLimit:Burst", "3"), ("Collection:FailedTokenLimit:PerMinute", "1"));
        var program = await ProgramAsync(portal);
        var guessed = Enumerable.Range(0, 4).Select(_ => CollectorTokens.Generate()).ToList();

        var guesses = new List<HttpStatusCode>();
        foreach (var token in guessed)
        {
            using var response = await FromAsync(portal, "203.0.113.7", token);
            guesses.Add(response.StatusCode);
        }
        using var goodTokenFromThere = await FromAsync(portal, "203.0.113.7", program.Token);
        using var sameIpv6Block = await FromAsync(portal, "2001:db8:1:2::1", guessed[0]);
        var ipv6Guesses = new List<HttpStatusCode> { sameIpv6Block.StatusCode };
        foreach (var host in new[] { "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:2:ffff::4" })
        {
            using var response = await FromAsync(portal, host, guessed[0]);
            ipv6Guesses.Add(response.StatusCode);
        }
        using var badTokenFromElsewhere = await FromAsync(portal, "198.51.100.2", guessed[0]);
        using var goodTokenFromElsewhere = await FromAsync(portal, "198.51.100.2", program.Token);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], guesses);
        await ProblemAsync(goodTokenFromThere, HttpStatusCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(60), goodTokenFromThere.Headers.RetryAfter?.Delta);
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], ipv6Guesses);
        await ProblemAsync(badTokenFromElsewhere, HttpStatusCode.Unauthorized);
        await AnswerIsAsync(goodTokenFromElsewhere, 1);
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    private static async Task<HttpResponseMessage> FromAsync(PortalFactory portal, string address, string token)
    {
        using var client = portal.Collector(token);
        using var request = new HttpRequestMessage(HttpMethod.Post, CollectPath) { Content = Json(Array(Record("alice@example.com", "keystrokes"))) };
        request.Headers.Add(ClientAddressHeader, address);
        var response = await client.SendAsync(request, Cancellation);
        await response.Content.LoadIntoBufferAsync(Cancellation);
        return response;
    }

    /// <summary>The test server has no client addresses; this gives each request the one its test names.</summary>
    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextStep) =>
            {
                if (context.Request.Headers.TryGetValue(ClientAddressHeader, out var address))
                    context.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
                return nextStep(context);
            });
            next(app);
        };
    }

    [Fact]
    public async Task Collect_OverTheCollectorsRateLimit_Is429WithRetryAfter_WhileAnotherCollectorIsServed()
    {
        await using var portal = await PortalAsync(("Collection:RateLimit:RequestsPerSecond", "1"), ("Collection:RateLimit:Burst", "1"));
        var program = await ProgramAsync(portal);
        var (_, otherToken) = await portal.Database.Get<CollectorRegistry>().CreateAsync(program.Key, "Meeting bot", Priya, Cancellation);
        using var collector = portal.Collector(program.Token);
        using var other = portal.Collector(otherToken);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var attempt = 0; attempt < 10 && limited is null; attempt++)
        {
            var response = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                limited = response;
            else
                response.Dispose();
        }
        using var otherResponse = await other.PostAsync(Array(Record("bob@example.com", "keystrokes")));

        Assert.NotNull(limited);
        using (limited)
        {
            await ProblemAsync(limited, HttpStatusCode.TooManyRequests);
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        }
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        await AnswerIsAsync(otherResponse, 1);
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.OK) + 1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_ABodyThatStallsHalfWay_Is400AfterTheTimeout_AndStoresNothing()
    {
        await using var portal = await PortalAsync(("Collection:BodyReadTimeoutSeconds", "1"));
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var body = Array(Enumerable.Range(0, 50).Select(i => Record($"stalled.{i}@example.com", "keystrokes")));
        var release = new TaskCompletionSource();
        using var content = new StallingContent(Encoding.UTF8.GetBytes(body[..(body.Length / 2)]), release.Task);
        var clock = Stopwatch.StartNew();

        try
        {
            using var response = await collector.PostAsync(CollectPath, content, Cancellation);

            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains("Nothing was stored", (string?)problem["detail"]);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        }
        finally
        {
            release.TrySetResult();
        }
        Assert.Equal(0, await RecordsAsync(portal, program));
        Assert.Equal(0, await SubjectsNamedAsync(portal, "stalled.0@example.com"));
        using var next = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")));
        await AnswerIsAsync(next, 1);
    }

    [Fact]
    public async Task Collect_WhileTheDatabaseIsUnreachable_Is503WithRetryAfter_AndWorksAgainOnceItIsBack()
    {
        await using var portal = await PortalAsync();
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        using (var before = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes"))))
            await AnswerIsAsync(before, 1);
        var file = new SqliteConnectionStringBuilder(portal.Database.ConnectionString).DataSource;
        var aside = Path.Combine(portal.Database.Folder, "away");

        // The database file's place taken by a folder: every connection the portal opens now fails, as on a lost volume.
        Directory.CreateDirectory(aside);
        SqliteConnection.ClearPool(new SqliteConnection(portal.Database.ConnectionString));
        foreach (var part in Directory.GetFiles(portal.Database.Folder, Path.GetFileName(file) + "*"))
            File.Move(part, Path.Combine(aside, Path.GetFileName(part)));
        Directory.CreateDirectory(file);
        HttpResponseMessage down, status;
        try
        {
            down = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "while-down");
            status = await collector.GetAsync(StatusPath, Cancellation);
        }
        finally
        {
            Directory.Delete(file);
            foreach (var part in Directory.GetFiles(aside))
                File.Move(part, Path.Combine(portal.Database.Folder, Path.GetFileName(part)));
            SqliteConnection.ClearPool(new SqliteConnection(portal.Database.ConnectionString));
        }
        using var back = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "while-down");

        using (down)
        using (status)
        {
            await ProblemAsync(down, HttpStatusCode.ServiceUnavailable);
            await ProblemAsync(status, HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(down.Headers.RetryAfter?.Delta);
            Assert.NotNull(status.Headers.RetryAfter?.Delta);
        }
        await AnswerIsAsync(back, 1);
        Assert.Equal(2, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_StreamedBodyOver8MiBWithoutALength_OnKestrel_Is413ProblemAndStoresNothing()
    {
        // On Kestrel, as in production: the test server does not enforce request body limits at all.
        await using var portal = PortalFactory.For(Engine.Sqlite);
        portal.UseKestrel(0);
        await portal.InitializeAsync();
        var program = await ProgramAsync(portal);
        portal.StartServer();
        var address = portal.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var collector = new HttpClient { BaseAddress = new Uri(address) };
        collector.DefaultRequestHeaders.Authorization = new("Bearer", program.Token);
        using var content = new StreamedContent(Encoding.UTF8.GetBytes(CollectEndpointTests.OversizedBody()));

        using var response = await collector.PostAsync(CollectPath, content, Cancellation);

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    /// <summary>A body sent in pieces with no Content-Length, as a collector streaming from disk sends it.</summary>
    private sealed class StreamedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 64 * 1024)
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>Sends the first part of a body, then waits (as a collector on a dying network does) until told to let go.</summary>
    private sealed class StallingContent(byte[] firstPart, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(firstPart);
            await stream.FlushAsync();
            await release;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
