using System.Text;
using System.Text.Json.Nodes;
using GovernancePortal.Collection;
using static GovernancePortal.Tests.Collection.CollectionSamples;

namespace GovernancePortal.Tests.Collection;

public sealed class CollectBatchTests
{
    private static readonly DateTimeOffset Captured = new(2026, 3, 2, 9, 15, 30, 123, TimeSpan.Zero);

    private static JsonObject Valid(string subject = "alice@example.com") => Record(subject, "keystrokes", Captured);

    private static JsonObject With(string property, JsonNode? value)
    {
        var record = Valid();
        record[property] = value;
        return record;
    }

    private static JsonObject Without(string property)
    {
        var record = Valid();
        record.Remove(property);
        return record;
    }

    private static void AssertOnlyRejected(CollectBatch batch, params (int Index, string Reason)[] expected) =>
        Assert.Equal(expected.Select(e => new Rejection(e.Index, e.Reason)), batch.Rejected);

    [Fact]
    public async Task Array_OfValidRecords_YieldsEachRecordWithItsIndexAndThePayloadVerbatim()
    {
        var body = """
            [
              {"subject": "  Alice@Example.com ", "category": "keystrokes", "capturedAt": "2026-03-02T10:15:30.123+01:00", "payload": {"text": "ünïcode ✓", "n": [1, 2.50, null]}},
              {"payload": "just text", "capturedAt": "2026-03-02T09:15:30Z", "category": "transcriptions", "subject": "idp|bob"}
            ]
            """;

        var batch = await ReadAsync(body);

        Assert.Empty(batch.Rejected);
        Assert.Equal(2, batch.Records.Count);
        var first = batch.Records[0];
        Assert.Equal(0, first.Index);
        Assert.Equal("Alice@Example.com", first.Subject);
        Assert.Equal("keystrokes", first.Category);
        Assert.Equal(Captured, first.CapturedAt);
        Assert.Equal("""{"text": "ünïcode ✓", "n": [1, 2.50, null]}""", first.PayloadJson);
        Assert.Equal(new IncomingRecord(1, "idp|bob", "transcriptions", new DateTimeOffset(2026, 3, 2, 9, 15, 30, TimeSpan.Zero), "\"just text\""), batch.Records[1]);
    }

    [Fact]
    public async Task Ndjson_OneRecordPerLine_IsReadLikeAnArrayAndSkipsBlankLines()
    {
        var body = Ndjson(Valid("alice@example.com"), Valid("bob@example.com")) + "\n\n   \r\n" + Valid("carol@example.com").ToJsonString() + "\n";

        var batch = await ReadAsync(body, "application/x-ndjson; charset=utf-8");

        Assert.Empty(batch.Rejected);
        Assert.Equal([(0, "alice@example.com"), (1, "bob@example.com"), (2, "carol@example.com")], batch.Records.Select(r => (r.Index, r.Subject)));
    }

    [Theory]
    [InlineData("application/x-ndjson")]
    [InlineData("application/ndjson")]
    [InlineData("application/jsonl")]
    [InlineData("APPLICATION/X-NDJSON")]
    public void IsNdjson_TheNdjsonMediaTypes_AreRecognized(string contentType) => Assert.True(CollectBatch.IsNdjson(contentType));

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    public void IsNdjson_OtherMediaTypes_AreNot(string? contentType) => Assert.False(CollectBatch.IsNdjson(contentType));

    [Fact]
    public async Task EmptyArray_IsAnEmptyBatch()
    {
        var batch = await ReadAsync("[]");

        Assert.Empty(batch.Records);
        Assert.Empty(batch.Rejected);
    }

    [Fact]
    public async Task EmptyNdjsonBody_IsAnEmptyBatch()
    {
        var batch = await ReadAsync("", "application/x-ndjson");

        Assert.Empty(batch.Records);
        Assert.Empty(batch.Rejected);
    }

    [Theory]
    [InlineData("""[{"subject": "alice@example.com", "category": "keystrokes", "capturedAt": "2026-03-02T09:00:00Z", "payload": {}}, {"subject": """)]
    [InlineData("""[{"subject": "alice@example.com",}]""")]
    [InlineData("""[1, 2,, 3]""")]
    [InlineData("""[{"subject": 'single quotes'}]""")]
    [InlineData("""not json at all""")]
    [InlineData("""[] trailing""")]
    [InlineData("")]
    public async Task MalformedJson_Is400NamingTheBodyAndSayingNothingWasStored(string body)
    {
        var problem = await Assert.ThrowsAsync<CollectProblem>(() => ReadAsync(body));

        Assert.Equal(400, problem.Status);
        Assert.Equal("Malformed body", problem.Title);
        Assert.Contains("not valid JSON", problem.Message);
        Assert.Contains("Nothing was stored", problem.Message);
    }

    [Theory]
    [InlineData("""{"subject": "alice@example.com", "category": "keystrokes", "capturedAt": "2026-03-02T09:00:00Z", "payload": {}}""")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    [InlineData("true")]
    public async Task TopLevelValueThatIsNotAnArray_Is400(string body)
    {
        var problem = await Assert.ThrowsAsync<CollectProblem>(() => ReadAsync(body));

        Assert.Equal(400, problem.Status);
    }

    [Fact]
    public async Task Ndjson_MalformedLine_Is400NamingTheLine()
    {
        var body = Valid().ToJsonString() + "\n" + """{"subject": "bob@example.com", "category": """ + "\n" + Valid().ToJsonString();

        var problem = await Assert.ThrowsAsync<CollectProblem>(() => ReadAsync(body, "application/x-ndjson"));

        Assert.Equal(400, problem.Status);
        Assert.Contains("Line 2", problem.Message);
        Assert.Contains("NDJSON", problem.Message);
    }

    public static TheoryData<string, string> WrongShapes => new()
    {
        { "subject is a number", With("subject", 42).ToJsonString() },
        { "subject is an object", With("subject", new JsonObject { ["email"] = "alice@example.com" }).ToJsonString() },
        { "subject is blank", With("subject", "   ").ToJsonString() },
        { "subject is too long", With("subject", new string('a', 310) + "@example.com").ToJsonString() },
        { "category is a boolean", With("category", true).ToJsonString() },
        { "category is null", With("category", null).ToJsonString() },
        { "category is too long", With("category", new string('k', 64)).ToJsonString() },
        { "capturedAt is a number", With("capturedAt", 1772442000).ToJsonString() },
        { "capturedAt is not a date", With("capturedAt", "yesterday").ToJsonString() },
        { "capturedAt is not a day of the calendar", With("capturedAt", "2026-02-30T09:00:00Z").ToJsonString() },
        { "payload is null", With("payload", null).ToJsonString() },
        { "subject is missing", Without("subject").ToJsonString() },
        { "category is missing", Without("category").ToJsonString() },
        { "capturedAt is missing", Without("capturedAt").ToJsonString() },
        { "payload is missing", Without("payload").ToJsonString() },
        { "the record is a string", "\"alice@example.com keystrokes\"" },
        { "the record is an array", """["alice@example.com", "keystrokes", "2026-03-02T09:00:00Z", {}]""" },
        { "the record is a number", "7" },
        { "the record is null", "null" },
    };

    [Theory, MemberData(nameof(WrongShapes))]
    public async Task WrongTypeOrMissingField_IsAnInvalidRecord_AndTheRestOfTheBatchIsRead(string why, string record)
    {
        var batch = await ReadAsync($"[{Valid("alice@example.com").ToJsonString()}, {record}, {Valid("bob@example.com").ToJsonString()}]");

        AssertOnlyRejected(batch, (1, RejectReason.InvalidRecord));
        Assert.True(batch.Records.Select(r => r.Index).SequenceEqual([0, 2]), why);
    }

    [Theory, MemberData(nameof(WrongShapes))]
    public async Task WrongTypeOrMissingField_InNdjson_IsAnInvalidRecord(string why, string record)
    {
        var batch = await ReadAsync(string.Join('\n', Valid().ToJsonString(), record), "application/x-ndjson");

        AssertOnlyRejected(batch, (1, RejectReason.InvalidRecord));
        Assert.True(batch.Records.Count == 1, why);
    }

    [Theory]
    [InlineData("subject", "mallory\u0000@example.com")]
    [InlineData("subject", "alice@example.com\u001b[2J")]
    [InlineData("category", "keystrokes\u0000")]
    public async Task ControlCharacterInSubjectOrCategory_IsAnInvalidRecord(string property, string value)
    {
        var batch = await ReadAsync(Array(With(property, value)));

        AssertOnlyRejected(batch, (0, RejectReason.InvalidRecord));
    }

    [Theory]
    [InlineData("2026-03-02T09:00:00")]
    [InlineData("2026-03-02T09:00:00.1234567")]
    [InlineData("2026-03-02")]
    [InlineData("2026-03-02 09:00:00Z")]
    [InlineData("09:00:00Z")]
    public async Task CapturedAtWithoutDateTimeAndZone_IsAnInvalidRecord(string capturedAt)
    {
        var batch = await ReadAsync(Array(With("capturedAt", capturedAt)));

        AssertOnlyRejected(batch, (0, RejectReason.InvalidRecord));
    }

    [Theory]
    [InlineData("2026-03-02T09:15:30.123Z")]
    [InlineData("2026-03-02T10:15:30.123+01:00")]
    [InlineData("2026-03-02T04:15:30.123-05:00")]
    [InlineData("2026-03-02T09:15:30.1230000+00:00")]
    public async Task CapturedAtWithAZone_IsTheSameInstantWhateverTheOffset(string capturedAt)
    {
        var batch = await ReadAsync(Array(With("capturedAt", capturedAt)));

        Assert.Empty(batch.Rejected);
        Assert.Equal(Captured, Assert.Single(batch.Records).CapturedAt);
        Assert.Equal(TimeSpan.Zero, batch.Records[0].CapturedAt.ToUniversalTime().Offset);
    }

    [Fact]
    public async Task PayloadOver64KiB_IsTooLarge_WhileOneOfExactly64KiBIsRead()
    {
        // A JSON string's raw form is its characters and two quotes.
        var exactly = Valid();
        exactly["payload"] = new string('x', CollectBatch.MaxPayloadBytes - 2);
        var over = Valid();
        over["payload"] = new string('x', CollectBatch.MaxPayloadBytes - 1);
        var overAsObject = Valid();
        overAsObject["payload"] = new JsonObject { ["text"] = new string('y', CollectBatch.MaxPayloadBytes) };

        var batch = await ReadAsync(Array(exactly, over, overAsObject));

        AssertOnlyRejected(batch, (1, RejectReason.TooLarge), (2, RejectReason.TooLarge));
        Assert.Equal(CollectBatch.MaxPayloadBytes, Encoding.UTF8.GetByteCount(Assert.Single(batch.Records).PayloadJson));
    }

    [Fact]
    public async Task Payload_MultiByteCharacters_AreCountedInBytes()
    {
        var record = Valid();
        record["payload"] = new string('é', CollectBatch.MaxPayloadBytes / 2);

        var batch = await ReadAsync(Array(record));

        AssertOnlyRejected(batch, (0, RejectReason.TooLarge));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-ndjson")]
    public async Task FiveThousandRecords_AreRead(string contentType)
    {
        var records = Enumerable.Range(0, CollectBatch.MaxRecords).Select(_ => (JsonNode)Valid()).ToArray();

        var batch = await ReadAsync(CollectBatch.IsNdjson(contentType) ? Ndjson(records) : Array(records), contentType);

        Assert.Equal(CollectBatch.MaxRecords, batch.Records.Count);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-ndjson")]
    public async Task FiveThousandAndOneRecords_Is413(string contentType)
    {
        var records = Enumerable.Range(0, CollectBatch.MaxRecords + 1).Select(_ => (JsonNode)Valid()).ToArray();

        var problem = await Assert.ThrowsAsync<CollectProblem>(() => ReadAsync(CollectBatch.IsNdjson(contentType) ? Ndjson(records) : Array(records), contentType));

        Assert.Equal(413, problem.Status);
        Assert.Contains("5000", problem.Message);
    }

    [Fact]
    public async Task FiveThousandAndOneRecords_CountInvalidOnesToo()
    {
        var records = Enumerable.Range(0, CollectBatch.MaxRecords + 1).Select(_ => (JsonNode)new JsonObject()).ToArray();

        var problem = await Assert.ThrowsAsync<CollectProblem>(() => ReadAsync(Array(records)));

        Assert.Equal(413, problem.Status);
    }

    [Fact]
    public async Task MixedBatch_KeepsValidRecordsAndListsRejectionsInIndexOrder()
    {
        var tooLarge = Valid();
        tooLarge["payload"] = new string('x', CollectBatch.MaxPayloadBytes);

        var batch = await ReadAsync(Array(new JsonObject(), Valid("alice@example.com"), tooLarge, With("subject", 1), Valid("bob@example.com")));

        AssertOnlyRejected(batch, (0, RejectReason.InvalidRecord), (2, RejectReason.TooLarge), (3, RejectReason.InvalidRecord));
        Assert.Equal([1, 4], batch.Records.Select(r => r.Index));
    }
}
