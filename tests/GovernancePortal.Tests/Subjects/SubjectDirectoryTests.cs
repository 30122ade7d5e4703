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

        var subject = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|erin", "  Erin.Walsh@Example.COM ", EmailVerified: true, "Erin Walsh"), Cancellation);

        Assert.Equal("idp|erin", subject.ExternalId);
        Assert.Equal("erin.walsh@example.com", subject.Email);
        Assert.Equal("Erin Walsh", subject.DisplayName);
        Assert.Equal(SampleData.Epoch, subject.CreatedAt);
        Assert.Equal(SampleData.Epoch, subject.LastSignInAt);
        Assert.Equal(subject, await db.Services.SubjectByExternalIdAsync("idp|erin"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_Again_UpdatesTheSameSubject(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var first = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|erin", "erin@example.com", EmailVerified: true, "Erin"), Cancellation);
        _clock.Advance(TimeSpan.FromDays(3));

        var again = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|erin", "erin.walsh@example.com", EmailVerified: true, "Erin Walsh"), Cancellation);

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

        var signedIn = await db.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|frank", "frank@example.com", EmailVerified: true, "Frank"), Cancellation);

        Assert.Equal(collected, signedIn.Id);
        Assert.Equal("idp|frank", signedIn.ExternalId);
        Assert.Equal(SampleData.Epoch, signedIn.LastSignInAt);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_EmailOfAnotherAccount_IsRefusedAndChangesNothing(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var owner = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|gina", "gina@example.com", EmailVerified: true, "Gina"), Cancellation);

        var problem = await Assert.ThrowsAsync<SubjectProblem>(() =>
            directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|impostor", "gina@example.com", EmailVerified: true, "Not Gina"), Cancellation));

        Assert.Equal(SignInRefusal.EmailBelongsToAnotherAccount, problem.Reason);
        Assert.Null(await db.Services.SubjectByExternalIdAsync("idp|impostor"));
        Assert.Equal(owner, await db.Services.SubjectByExternalIdAsync("idp|gina"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_NewEmailHeldByAnotherSubject_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var hana = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|hana", "hana@example.com", EmailVerified: true, "Hana"), Cancellation);
        await SampleData.SubjectAsync(db, "h.ito@example.com");

        await Assert.ThrowsAsync<SubjectProblem>(() =>
            directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|hana", "h.ito@example.com", EmailVerified: true, "Hana Ito"), Cancellation));

        Assert.Equal(hana, await db.Services.SubjectByExternalIdAsync("idp|hana"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_UnverifiedEmailOfACollectedSubject_IsRefusedAndLeavesItUnlinked(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var collected = await SampleData.SubjectAsync(db, "ivy@example.com");
        var directory = db.Get<SubjectDirectory>();

        var problem = await Assert.ThrowsAsync<SubjectProblem>(() =>
            directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|mallory", "ivy@example.com", EmailVerified: false, "Ivy?"), Cancellation));

        Assert.Equal(SignInRefusal.EmailUnverified, problem.Reason);
        Assert.Null(await db.Services.SubjectByExternalIdAsync("idp|mallory"));
        var subject = await db.Services.SubjectByIdAsync(collected);
        Assert.Null(subject!.ExternalId);
        Assert.Null(subject.ExternalIssuer);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_VerifiedEmailOfACollectedSubject_LinksTheProviderIdentity(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var collected = await SampleData.SubjectAsync(db, "ivy@example.com");

        var subject = await db.Get<SubjectDirectory>().RecordSignInAsync(
            new SignedInPerson(SampleData.Issuer, "idp|ivy", "ivy@example.com", EmailVerified: true, "Ivy"), Cancellation);

        Assert.Equal(collected, subject.Id);
        Assert.Equal(("idp|ivy", SampleData.Issuer), (subject.ExternalId, subject.ExternalIssuer));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_NewPersonWithAnUnverifiedEmail_IsRefusedAndNoSubjectIsCreated(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);

        var problem = await Assert.ThrowsAsync<SubjectProblem>(() => db.Get<SubjectDirectory>().RecordSignInAsync(
            new SignedInPerson(SampleData.Issuer, "idp|jules", "jules@example.com", EmailVerified: false, "Jules"), Cancellation));

        Assert.Equal(SignInRefusal.EmailUnverified, problem.Reason);
        await using var connection = await db.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM subjects"));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_LinkedPersonWithANewUnverifiedEmail_SignsInButKeepsTheVerifiedAddress(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        var kim = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|kim", "kim@example.com", EmailVerified: true, "Kim"), Cancellation);

        // Records collected for the new address later must not reach Kim's account on an unchecked claim.
        var again = await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "idp|kim", "ceo@example.com", EmailVerified: false, "Kim"), Cancellation);

        Assert.Equal(kim.Id, again.Id);
        Assert.Equal("kim@example.com", again.Email);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task SignIn_SameSubjectIdFromAnotherIssuer_IsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine, _clock);
        var directory = db.Get<SubjectDirectory>();
        await directory.RecordSignInAsync(new SignedInPerson(SampleData.Issuer, "user-1", "lee@example.com", EmailVerified: true, "Lee"), Cancellation);

        var problem = await Assert.ThrowsAsync<SubjectProblem>(() => directory.RecordSignInAsync(
            new SignedInPerson("https://other-idp.example.test/", "user-1", "lee@example.com", EmailVerified: true, "Lee"), Cancellation));

        Assert.Equal(SignInRefusal.IdentityFromAnotherProvider, problem.Reason);
    }
}
