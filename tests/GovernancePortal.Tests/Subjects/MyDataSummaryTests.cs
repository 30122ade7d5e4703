using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Subjects;

public sealed class MyDataSummaryTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task ForProgram_IsThatProgramsEntryOfTheWholeSummary_CountingOnlyMyRecords(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var other = await SampleData.ProgramAsync(db, "endpoint-security", "process_events");
        var alice = await SampleData.SubjectAsync(db, "alice@example.com");
        var bob = await SampleData.SubjectAsync(db, "bob@example.com");
        await SampleData.AddRecordsAsync(db,
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch, """{"n":1}"""),
            new NewRecord(mci.Id, mci["keystrokes"], alice, SampleData.Epoch.AddHours(1), """{"n":2}"""),
            new NewRecord(mci.Id, mci["transcriptions"], bob, SampleData.Epoch, """{"n":3}"""),
            new NewRecord(other.Id, other["process_events"], alice, SampleData.Epoch, """{"n":4}"""));
        await db.Get<Revocations>().RevokeAsync(alice, "mci", "transcriptions", new Actor("alice@example.com", [Roles.Employee], alice), Cancellation);
        var summary = db.Get<MyDataSummary>();

        var whole = await summary.ForSubjectAsync(alice, Cancellation);
        var mciOnly = await summary.ForProgramAsync(alice, "mci", Cancellation);

        Assert.Equal(["endpoint-security", "mci"], whole.Select(h => h.Program.Key).Order());
        Assert.NotNull(mciOnly);
        var fromWhole = whole.Single(h => h.Program.Key == "mci");
        Assert.Equal(fromWhole.Categories.Select(Describe), mciOnly.Categories.Select(Describe));
        Assert.Equal(["keystrokes: 2", "transcriptions: 0 stopped"], mciOnly.Categories.Select(Describe));
        Assert.Null(await summary.ForProgramAsync(alice, "no-such-program", Cancellation));
        Assert.Null(await summary.ForProgramAsync(bob, "endpoint-security", Cancellation));

        static string Describe(CategoryHoldings c) => $"{c.Category.Key}: {c.RecordCount}{(c.RevokedByMe ? " stopped" : "")}";
    }
}
