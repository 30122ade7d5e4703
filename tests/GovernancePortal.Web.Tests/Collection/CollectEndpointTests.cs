using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static GovernancePortal.Web.Tests.Collection.CollectApi;

namespace GovernancePortal.Web.Tests.Collection;

/// <summary>
/// <c>POST /api/v1/collect</c> and <c>GET /api/v1/collect/status</c> through HTTP on the real host (docs/collection-api.md):
/// every bad input of issue 3 gets its status and problem details, never a 500, and a refused request stores nothing.
/// </summary>
public sealed class CollectEndpointTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Collect_AValidBatch_Is200WithTheCount_AndTheRecordsAppearForTheEmployee()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(
            Record("alice@example.com", "keystrokes", payloadJson: """{"text":"draft of my resignation letter"}"""),
            Record("Alice@Example.com", "transcriptions"),
            Record("bob@example.com", "keystrokes")));

        await AnswerIsAsync(response, 3);
        Assert.Equal(3, await RecordsAsync(portal, program));
        var alice = await SubjectIdAsync(portal, "alice@example.com");
        var holdings = (await portal.Database.Get<MyDataSummary>().ForSubjectAsync(alice, Cancellation)).Single(h => h.Program.Key == program.Key);
        Assert.Equal(2, holdings.RecordCount);
        using var browser = await portal.SignedInAsAsync("alice@example.com");
        using var page = await browser.GetPageAsync("/me");
        Assert.Contains(program.Name, await page.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Collect_Ndjson_IsAccepted()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var body = string.Join('\n', Record("alice@example.com", "keystrokes").ToJsonString(), "", Record("bob@example.com", "transcriptions").ToJsonString(), """{"subject": 1}""") + "\n";

        using var response = await collector.PostAsync(body, "application/x-ndjson");

        await AnswerIsAsync(response, 2, (2, RejectReason.InvalidRecord));
        Assert.Equal(2, await RecordsAsync(portal, program));
    }

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        { "truncated after valid records", "application/json", Array(Record("new.malformed@example.com", "keystrokes"), Record("new.malformed@example.com", "keystrokes"))[..^3] },
        { "trailing garbage after the array", "application/json", Array(Record("new.malformed@example.com", "keystrokes")) + " and more" },
        { "not JSON at all", "application/json", "subject=alice&category=keystrokes" },
        { "an object instead of an array", "application/json", Record("new.malformed@example.com", "keystrokes").ToJsonString() },
        { "a string instead of an array", "application/json", "\"records\"" },
        { "an empty body", "application/json", "" },
        { "an NDJSON line cut short", "application/x-ndjson", Record("new.malformed@example.com", "keystrokes").ToJsonString() + "\n{\"subject\": \"x\", " },
        { "a payload nested deeper than 64 levels", "application/json",
            $"[{{\"subject\": \"new.malformed@example.com\", \"category\": \"keystrokes\", \"capturedAt\": \"{DateTimeOffset.UtcNow:O}\", \"payload\": {new string('[', 100)}{new string(']', 100)}}}]" },
    };

    [Theory, MemberData(nameof(MalformedBodies))]
    public async Task Collect_MalformedBody_Is400ProblemAndStoresNothingAtAll(string why, string contentType, string body)
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(body, contentType);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Nothing was stored", (string?)problem["detail"]);
        Assert.True(await RecordsAsync(portal, program) == 0, why);
        Assert.Equal(0, await SubjectsNamedAsync(portal, "new.malformed@example.com"));
    }

    [Fact]
    public async Task Collect_SubjectThatIsNotUtf8_Is400AndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(CollectPath, WithInvalidUtf8(Record("new.XX@example.com", "keystrokes")), Cancellation);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_PayloadThatIsNotUtf8_Is400AndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(CollectPath, WithInvalidUtf8(Record("alice@example.com", "keystrokes", payloadJson: "\"XX\"")), Cancellation);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    /// <summary>The record as a body whose first "XX" is replaced by bytes that are not UTF-8 (a lead byte without its continuation).</summary>
    private static ByteArrayContent WithInvalidUtf8(JsonObject record)
    {
        var bytes = Encoding.UTF8.GetBytes(Array(record));
        var at = bytes.AsSpan().IndexOf("XX"u8);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    [Fact]
    public async Task Collect_WrongTypesAndMissingFields_Are200WithInvalidRecord_AndTheRestIsStored()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var withoutPayload = Record("alice@example.com", "keystrokes");
        withoutPayload.Remove("payload");
        var numericSubject = Record("alice@example.com", "keystrokes");
        numericSubject["subject"] = 42;
        var localTime = Record("alice@example.com", "keystrokes");
        localTime["capturedAt"] = "2026-11-27T09:00:00";

        using var response = await collector.PostAsync(Array(
            Record("alice@example.com", "keystrokes"), withoutPayload, numericSubject, JsonValue.Create("a string")!, localTime, new JsonObject(), Record("bob@example.com", "keystrokes")));

        await AnswerIsAsync(response, 2, (1, RejectReason.InvalidRecord), (2, RejectReason.InvalidRecord), (3, RejectReason.InvalidRecord), (4, RejectReason.InvalidRecord), (5, RejectReason.InvalidRecord));
        Assert.Equal(2, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_UnknownCategory_IsRejectedAsUnknownCategory()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(Record("alice@example.com", "screen_text"), Record("alice@example.com", "keystrokes")));

        await AnswerIsAsync(response, 1, (0, RejectReason.UnknownCategory));
    }

    [Fact]
    public async Task Collect_CapturedAtFarInTheFutureOrBeforeTheProgramExisted_IsAnInvalidRecord()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(
            Record("alice@example.com", "keystrokes", DateTimeOffset.UtcNow.AddDays(3)),
            Record("alice@example.com", "keystrokes", program.CreatedAt.AddMinutes(-1)),
            Record("alice@example.com", "keystrokes", DateTimeOffset.UtcNow.AddMinutes(2))));

        await AnswerIsAsync(response, 1, (0, RejectReason.InvalidRecord), (1, RejectReason.InvalidRecord));
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_PayloadOver64KiB_IsTooLarge_AndTheRestIsStored()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var huge = Record("alice@example.com", "transcriptions");
        huge["payload"] = new JsonObject { ["text"] = new string('w', 64 * 1024) };

        using var response = await collector.PostAsync(Array(huge, Record("alice@example.com", "keystrokes")));

        await AnswerIsAsync(response, 1, (0, RejectReason.TooLarge));
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_5001Records_Is413ProblemAndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(Enumerable.Range(0, CollectBatch.MaxRecords + 1).Select(_ => Record("alice@example.com", "keystrokes"))));

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_5000Records_AreAllStored()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(Enumerable.Range(0, CollectBatch.MaxRecords).Select(i => Record($"person.{i % 50}@example.com", "keystrokes"))));

        await AnswerIsAsync(response, CollectBatch.MaxRecords);
        Assert.Equal(CollectBatch.MaxRecords, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_BodyOver8MiB_Is413ProblemAndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var records = OversizedBody();

        using var response = await collector.PostAsync(records);

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    /// <summary>Fewer than 5,000 records, each payload under 64 KiB, together over 8 MiB: only the body limit refuses it.</summary>
    internal static string OversizedBody()
    {
        var body = Array(Enumerable.Range(0, 150).Select(_ => Record("alice@example.com", "keystrokes", payloadJson: $"\"{new string('p', 60 * 1024)}\"")));
        Assert.True(body.Length > CollectBatch.MaxBodyBytes);
        return body;
    }

    public static TheoryData<string, string?> WrongAuthorizations => new()
    {
        { "no Authorization header", null },
        { "a token nobody was given", "Bearer " + CollectorTokens.Generate() },
        { "a malformed token", "Bearer not-a-token" },
        { "an empty bearer", "Bearer " },
        { "basic credentials", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("priya:secret")) },
    };

    [Theory, MemberData(nameof(WrongAuthorizations))]
    public async Task Collect_WrongToken_Is401WithABearerChallenge(string why, string? authorization)
    {
        var program = await ProgramAsync(portal);
        using var client = portal.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, CollectPath) { Content = Json(Array(Record("alice@example.com", "keystrokes"))) };
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await client.SendAsync(request, Cancellation);

        await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.True(response.Headers.WwwAuthenticate.Any(h => h.Scheme == "Bearer"), why);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_RevokedToken_Is401_ForPostAndStatus()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        using (var before = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes"))))
            Assert.Equal(1, (await AnswerAsync(before)).Accepted);

        await portal.Database.Get<CollectorRegistry>().RevokeAsync(program.Key, program.CollectorId, Omar, Cancellation);

        using var post = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")));
        using var status = await collector.GetAsync(StatusPath, Cancellation);
        await ProblemAsync(post, HttpStatusCode.Unauthorized);
        await ProblemAsync(status, HttpStatusCode.Unauthorized);
        Assert.Contains(post.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_TokenOfAnotherProgram_StoresNothingInTheOtherProgram()
    {
        var mine = await ProgramAsync(portal, "process_events");
        var theirs = await ProgramAsync(portal, "keystrokes", "transcriptions");
        using var collector = portal.Collector(mine.Token);

        using var response = await collector.PostAsync(Array(
            Record("alice@example.com", "keystrokes"), Record("alice@example.com", "transcriptions"), Record("alice@example.com", "process_events")));

        await AnswerIsAsync(response, 1, (0, RejectReason.UnknownCategory), (1, RejectReason.UnknownCategory));
        Assert.Equal(0, await RecordsAsync(portal, theirs));
        Assert.Equal(1, await RecordsAsync(portal, mine));
    }

    [Fact]
    public async Task Collect_PausedProgram_Is423AndStoresNothing_UntilASecondOfficerResumesIt()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var pauses = portal.Services.GetRequiredService<PauseSwitch>();

        var pause = await pauses.PauseAsync(program.Key, [], "Transcripts were readable by all staff", Priya, Cancellation);
        using var paused = await collector.PostAsync(Array(Record("paused.new@example.com", "keystrokes")), idempotencyKey: "during-pause");
        var problem = await ProblemAsync(paused, HttpStatusCode.Locked);
        await pauses.ResumeAsync(program.Key, pause.Id, "Access narrowed to the model team", Omar, Cancellation);
        using var resumed = await collector.PostAsync(Array(Record("paused.new@example.com", "keystrokes")), idempotencyKey: "during-pause");

        Assert.Contains(program.Key, (string?)problem["detail"]);
        await AnswerIsAsync(resumed, 1);
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_PausedCategory_IsCategoryPaused_AndTheOtherCategoryIsStored()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        await portal.Services.GetRequiredService<PauseSwitch>().PauseAsync(program.Key, ["transcriptions"], "Transcript leak", Priya, Cancellation);

        using var response = await collector.PostAsync(Array(Record("alice@example.com", "transcriptions"), Record("alice@example.com", "keystrokes")));

        await AnswerIsAsync(response, 1, (0, RejectReason.CategoryPaused));
    }

    [Fact]
    public async Task Collect_RevokedSubject_IsSubjectRevoked_AndOthersAreStored()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var bob = await SubjectIdAsync(portal, "bob@example.com");
        await portal.Database.Get<Revocations>().RevokeAsync(bob, program.Key, null, new("bob@example.com", [Roles.Employee], bob), Cancellation);

        using var response = await collector.PostAsync(Array(Record("bob@example.com", "keystrokes"), Record("alice@example.com", "keystrokes"), Record("BOB@example.com", "transcriptions")));

        await AnswerIsAsync(response, 1, (0, RejectReason.SubjectRevoked), (2, RejectReason.SubjectRevoked));
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_RetryWithTheSameIdempotencyKey_GetsTheSameAnswerAndStoresNothingNew()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var body = Array(Record("alice@example.com", "keystrokes"), Record("alice@example.com", "screen_text"));

        using var first = await collector.PostAsync(body, idempotencyKey: "2026-11-27T09:00:00Z-batch-17");
        var firstText = await first.Content.ReadAsStringAsync(Cancellation);
        using var retry = await collector.PostAsync(body, idempotencyKey: "2026-11-27T09:00:00Z-batch-17");
        using var newKey = await collector.PostAsync(body, idempotencyKey: "2026-11-27T09:00:00Z-batch-18");

        await AnswerIsAsync(first, 1, (1, RejectReason.UnknownCategory));
        Assert.Equal(firstText, await retry.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await AnswerIsAsync(newKey, 1, (1, RejectReason.UnknownCategory));
        Assert.Equal(2, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_IdempotencyKeyReusedWithADifferentBody_Is422ProblemAndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var body = Array(Record("alice@example.com", "keystrokes"));

        using var first = await collector.PostAsync(body, idempotencyKey: "batch-17");
        using var changedBody = await collector.PostAsync(Array(Record("reused.key@example.com", "keystrokes")), idempotencyKey: "batch-17");
        using var retry = await collector.PostAsync(body, idempotencyKey: "batch-17");

        await AnswerIsAsync(first, 1);
        var problem = await ProblemAsync(changedBody, (HttpStatusCode)422);
        Assert.Contains("Idempotency-Key", (string?)problem["detail"]);
        await AnswerIsAsync(retry, 1);
        Assert.Equal(1, await RecordsAsync(portal, program));
        Assert.Equal(0, await SubjectsNamedAsync(portal, "reused.key@example.com"));
    }

    [Fact]
    public async Task Collect_CollectorRevokedWhileItsBodyIsStillArriving_Is401AndStoresNothing()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var body = Encoding.UTF8.GetBytes(Array(Enumerable.Range(0, 4_000).Select(i => Record($"streaming.{i}@example.com", "keystrokes"))));
        var half = body.Length / 2;
        using var content = new TwoPartContent(body[..half], body[half..]);

        var sending = collector.PostAsync(CollectPath, content, Cancellation);
        await content.FirstPartTaken.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);
        await portal.Database.Get<CollectorRegistry>().RevokeAsync(program.Key, program.CollectorId, Omar, Cancellation);
        content.SendTheRest();
        using var response = await sending;

        await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal(0, await RecordsAsync(portal, program));
        Assert.Equal(0, await SubjectsNamedAsync(portal, "streaming.0@example.com"));
    }

    [Fact]
    public async Task Collect_RefusedRequestWithAnIdempotencyKey_LeavesTheKeyFreeForTheCorrectedRetry()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var malformed = await collector.PostAsync("[{\"subject\": ", idempotencyKey: "batch-42");
        using var tooMany = await collector.PostAsync(Array(Enumerable.Range(0, CollectBatch.MaxRecords + 1).Select(_ => Record("alice@example.com", "keystrokes"))), idempotencyKey: "batch-42");
        using var corrected = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "batch-42");

        await ProblemAsync(malformed, HttpStatusCode.BadRequest);
        await ProblemAsync(tooMany, HttpStatusCode.RequestEntityTooLarge);
        await AnswerIsAsync(corrected, 1);
        Assert.Equal(1, await RecordsAsync(portal, program));
    }

    [Theory]
    [InlineData("a key with\ta tab")]
    [InlineData("line\u0001feed")]
    public async Task Collect_BadIdempotencyKey_Is400AndStoresNothing(string key)
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, CollectPath) { Content = Json(Array(Record("alice@example.com", "keystrokes"))) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await collector.SendAsync(request, Cancellation);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Collect_IdempotencyKeyOver200Characters_Is400()
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: new string('k', 201));

        await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Collect_UnsupportedContentType_Is400AndStoresNothing(string contentType)
    {
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        using var content = new StringContent(Array(Record("alice@example.com", "keystrokes")));
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await collector.PostAsync(CollectPath, content, Cancellation);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    [Fact]
    public async Task Status_NamesTheProgramAndItsState_AndShowsAPauseAtOnce()
    {
        var program = await ProgramAsync(portal, "keystrokes", "transcriptions", "mouse_movements");
        using var collector = portal.Collector(program.Token);
        var pauses = portal.Services.GetRequiredService<PauseSwitch>();

        var active = await StatusAsync(collector);
        var categoryPause = await pauses.PauseAsync(program.Key, ["transcriptions", "keystrokes"], "Review", Priya, Cancellation);
        var categoriesPaused = await StatusAsync(collector);
        var wholePause = await pauses.PauseAsync(program.Key, [], "Leak", Priya, Cancellation);
        var paused = await StatusAsync(collector);
        await pauses.ResumeAsync(program.Key, wholePause.Id, "Fixed", Omar, Cancellation);
        await pauses.ResumeAsync(program.Key, categoryPause.Id, "Reviewed", Omar, Cancellation);
        var resumed = await StatusAsync(collector);

        Assert.Equal($$"""{"program":"{{program.Key}}","state":"active","pausedCategories":[]}""", active);
        Assert.Equal($$"""{"program":"{{program.Key}}","state":"active","pausedCategories":["keystrokes","transcriptions"]}""", categoriesPaused);
        Assert.Equal($$"""{"program":"{{program.Key}}","state":"paused","pausedCategories":["keystrokes","transcriptions"]}""", paused);
        Assert.Equal(active, resumed);
    }

    [Fact]
    public async Task Status_WithoutAToken_Is401()
    {
        using var anonymous = portal.CreateClient();

        using var response = await anonymous.GetAsync(StatusPath, Cancellation);

        await ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Collect_ASignedInPersonsCookie_IsNotACollectorToken()
    {
        var program = await ProgramAsync(portal);
        using var officer = await portal.SignedInAsAsync("priya@example.com");

        using var response = await officer.PostAsync(CollectPath, Json(Array(Record("alice@example.com", "keystrokes"))), Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await RecordsAsync(portal, program));
    }

    private static async Task<string> StatusAsync(HttpClient collector)
    {
        using var response = await collector.GetAsync(StatusPath, Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancellation))!.ToJsonString();
    }

    /// <summary>
    /// Sends the first part of a body, then waits until told to send the rest. The first part is larger than the
    /// test server's request pipe holds, so once it is taken the endpoint has authenticated and is reading.
    /// </summary>
    private sealed class TwoPartContent(byte[] firstPart, byte[] rest) : HttpContent
    {
        private readonly TaskCompletionSource _taken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstPartTaken => _taken.Task;

        public void SendTheRest() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(firstPart);
            await stream.FlushAsync();
            _taken.TrySetResult();
            await _release.Task;
            await stream.WriteAsync(rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            _release.TrySetResult();
            base.Dispose(disposing);
        }
    }
}
