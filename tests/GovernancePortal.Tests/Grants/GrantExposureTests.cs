using GovernancePortal.Access;
using GovernancePortal.Grants;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Grants;

/// <summary>Who can read a program now and who did; and, for one person, the grants that can read their records now.</summary>
public sealed class GrantExposureTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task Report_CountsThePeopleAndRecordsRead_PerDayAndPerReader_AndListsTheActiveGrants(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var ended = await world.ActiveGrantAsync(db.Services, "keystrokes");
        await db.Get<GrantDesk>().EndAsync(ended, "Done", world.Omar, Cancellation);
        var reader = db.Get<GrantReader>();
        await reader.ReadAsync("mci", id, new(), 0, 4, world.Dana, Cancellation);
        await reader.ReadAsync("mci", id, new(Person: "bob@example.com"), 0, 3, world.Dana, Cancellation);

        var report = await db.Get<GrantExposure>().ReportAsync("mci", world.Priya, Cancellation);

        Assert.Equal([id], report.ActiveGrants.Select(g => g.Id));
        Assert.Equal(2, report.PeopleRead);
        Assert.Equal(7, report.RecordsRead);
        var day = Assert.Single(report.PerDay);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), day.Day);
        var dana = Assert.Single(report.Readers);
        Assert.Equal(("dana@example.com", 7L, 2L), (dana.Reader, dana.Records, dana.People));
        await Assert.ThrowsAsync<RuleViolation>(() => db.Get<GrantExposure>().ReportAsync("mci", world.Dana, Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task WhoCanRead_ListsActiveGrantsCoveringMyRecords_WithoutNames_AndNotWhatIRevoked(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");
        var exposure = db.Get<GrantExposure>();

        var before = Assert.Single(await exposure.WhoCanReadAsync(world.Alice, Cancellation));
        await db.Get<Revocations>().RevokeAsync(world.Alice, "mci", "transcriptions", new Actor("alice@example.com", [Roles.Employee], world.Alice), Cancellation);
        var after = Assert.Single(await exposure.WhoCanReadAsync(world.Alice, Cancellation));
        await using var named = new ServiceCollection().AddLogging().AddPortalCore(db.Settings with { Grants = new GrantOptions(90, true) }).BuildServiceProvider();
        var withName = Assert.Single(await named.GetRequiredService<GrantExposure>().WhoCanReadAsync(world.Alice, Cancellation));

        Assert.Equal(["keystrokes", "transcriptions"], before.Categories);
        Assert.Null(before.Reader);
        Assert.Equal(GrantWorld.Purpose, before.Purpose);
        Assert.Equal(["keystrokes"], after.Categories);
        Assert.Equal("dana@example.com", withName.Reader);
        Assert.Empty(await exposure.WhoCanReadAsync(await SampleData.SubjectAsync(db, "nobody@example.com"), Cancellation));
    }
}
