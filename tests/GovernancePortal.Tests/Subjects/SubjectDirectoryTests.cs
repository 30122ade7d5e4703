using Dapper;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Tests.Subjects;

public sealed class SubjectDirectoryTests : DatabaseTests
{
    private readonly FakeTimeProvider _clock = new(SampleData.Epoch);

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_FirstTime_CreatesTheSubjectWithNormalizedEmail(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();

        var subject = await directory.RecordSignInAsync(new SignedInPerson("idp|erin", "  Erin.Walsh@Example.COM ", "Erin Walsh"), Cancellation);

        Assert.Equal("idp|erin", subject.ExternalId);
        Assert.Equal("erin.walsh@example.com", subject.Email);
        Assert.Equal("Erin Walsh", subject.DisplayName);
        Assert.Equal(SampleData.Epoch, subject.CreatedAt);
        Assert.Equal(SampleData.Epoch, subject.LastSignInAt);
        Assert.Equal(subject, await directory.FindByExternalIdAsync("idp|erin", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_Again_UpdatesTheSameSubject(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var first = await directory.RecordSignInAsync(new SignedInPerson("idp|erin", "erin@example.com", "Erin"), Cancellation);
        _clock.Advance(TimeSpan.FromDays(3));

        var again = await directory.RecordSignInAsync(new SignedInPerson("idp|erin", "erin.walsh@example.com", "Erin Walsh"), Cancellation);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal("erin.walsh@example.com", again.Email);
        Assert.Equal("Erin Walsh", again.DisplayName);
        Assert.Equal(first.CreatedAt, again.CreatedAt);
        Assert.Equal(SampleData.Epoch.AddDays(3), again.LastSignInAt);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM subjects"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_SubjectFirstSeenByEmail_IsLinkedToTheExternalId(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var collected = await SampleData.SubjectAsync(db, "Frank@Example.com");

        var signedIn = await db.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson("idp|frank", "frank@example.com", "Frank"), Cancellation);

        Assert.Equal(collected, signedIn.Id);
        Assert.Equal("idp|frank", signedIn.ExternalId);
        Assert.Equal(SampleData.Epoch, signedIn.LastSignInAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_EmailOfAnotherAccount_IsRefusedAndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var owner = await directory.RecordSignInAsync(new SignedInPerson("idp|gina", "gina@example.com", "Gina"), Cancellation);

        var problem = await Assert.ThrowsAsync<SubjectProblem>(() =>
            directory.RecordSignInAsync(new SignedInPerson("idp|impostor", "gina@example.com", "Not Gina"), Cancellation));

        Assert.Contains("another account", problem.Message);
        Assert.Null(await directory.FindByExternalIdAsync("idp|impostor", Cancellation));
        Assert.Equal(owner, await directory.FindByExternalIdAsync("idp|gina", Cancellation));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_NewEmailHeldByAnotherSubject_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var hana = await directory.RecordSignInAsync(new SignedInPerson("idp|hana", "hana@example.com", "Hana"), Cancellation);
        await SampleData.SubjectAsync(db, "h.ito@example.com");

        await Assert.ThrowsAsync<SubjectProblem>(() =>
            directory.RecordSignInAsync(new SignedInPerson("idp|hana", "h.ito@example.com", "Hana Ito"), Cancellation));

        Assert.Equal(hana, await directory.FindByExternalIdAsync("idp|hana", Cancellation));
    }
}
