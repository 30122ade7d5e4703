using Bunit;
using GovernancePortal.Access;
using GovernancePortal.Demo;
using GovernancePortal.Holds;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Features.Holds;
using GovernancePortal.Web.Tests.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Holds;

/// <summary>The officers' home line for legal holds to review, rendered over a real database with the demo data.</summary>
public sealed class HoldsToReviewTests : PortalComponentTest, IAsyncLifetime
{
    private TestDatabase? _database;

    private TestDatabase Database => _database ?? throw new InvalidOperationException("The database is created by InitializeAsync.");

    private static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Engine.Sqlite);
        await Database.Get<DemoData>().SeedAsync(Cancellation);
        Services.AddSingleton(Database.Get<LegalHolds>());
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        if (_database is not null)
            await _database.DisposeAsync();
    }

    private async Task<System.Security.Claims.ClaimsPrincipal> SignInAsync(string email, params string[] roles)
    {
        var subject = await Database.Get<SubjectDirectory>().RecordSignInAsync(new SignedInPerson(DemoUser.Issuer, $"demo|{email}", email, EmailVerified: true, email), Cancellation);
        return PortalClaims.Create(subject, roles);
    }

    private IRenderedComponent<HoldsToReview> Render(System.Security.Claims.ClaimsPrincipal principal) =>
        Render<HoldsToReview>(parameters => parameters.AddCascadingValue(Task.FromResult(new AuthenticationState(principal))));

    [Fact]
    public async Task HoldsToReview_Officer_SeesTheHoldsDueWithinThirtyDays_WithALinkToThem()
    {
        var priya = await SignInAsync("priya@example.com", Roles.PrivacyOfficer, Roles.Employee);
        var holds = Database.Get<LegalHolds>();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        foreach (var (days, reference) in new[] { (6, "CASE-SOON"), (1, "CASE-TOMORROW"), (45, "CASE-LATER") })
            await holds.PlaceAsync(new HoldPlacement(null, "mci", "Internal reason", reference, "priya@example.com", today.AddDays(days), "Kept for a case."), priya.ToActor(), Cancellation);

        var line = Render(priya);

        line.WaitForAssertion(() => Assert.Contains("2 legal holds to review", line.Markup));
        Assert.Contains("CASE-TOMORROW is due tomorrow", line.Markup);
        Assert.Contains("CASE-SOON in 6 days", line.Markup);
        Assert.DoesNotContain("CASE-LATER", line.Markup);
        Assert.DoesNotContain("Internal reason", line.Markup);
        Assert.Equal("/holds", line.Find("a").GetAttribute("href"));
    }

    [Fact]
    public async Task HoldsToReview_Employee_SeesNothing()
    {
        var alice = await SignInAsync("alice@example.com", Roles.Employee);

        var line = Render(alice);

        Assert.Empty(line.FindAll("[data-testid=holds-to-review]"));
    }
}
