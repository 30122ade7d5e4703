using Bunit;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Demo;
using GovernancePortal.Grants;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Features.Grants;
using GovernancePortal.Web.Tests.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GovernancePortal.Web.Tests.Grants;

/// <summary>A read page left open on a live circuit: it stops showing records within a minute of its grant stopping, though nobody touches it.</summary>
public sealed class GrantRecordsPageTests : PortalComponentTest, IAsyncLifetime
{
    private readonly FakeTimeProvider _pageClock = new(DateTimeOffset.UtcNow);
    private TestDatabase? _database;

    private TestDatabase Database => _database ?? throw new InvalidOperationException("The database is created by InitializeAsync.");

    private static CancellationToken Cancellation => Xunit.TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Engine.Sqlite);
        await Database.Get<DemoData>().SeedAsync(Cancellation);
        Services.AddSingleton(Database.Get<GrantReader>());
        Services.AddSingleton<TimeProvider>(_pageClock);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        if (_database is not null)
            await _database.DisposeAsync();
    }

    [Fact]
    public async Task OpenReadPage_AnOfficerEndsTheGrant_WithinAMinuteThePageShowsWhyAndNoRecord()
    {
        var dana = await SubjectAsync("dana@example.com");
        var priya = await SubjectAsync("priya@example.com");
        var principal = PortalClaims.Create(dana, [Roles.DataConsumer, Roles.Employee]);
        var page = Render<GrantRecordsPage>(parameters => parameters
            .Add(p => p.Id, 1L).Add(p => p.Program, "mci")
            .AddCascadingValue(Task.FromResult(new AuthenticationState(principal))));
        page.WaitForElement("[data-testid=read-records]");

        await Database.Get<GrantDesk>().EndAsync(1, "Leak under investigation", new Actor(priya.Email!, [Roles.PrivacyOfficer, Roles.Employee], priya.Id), Cancellation);
        Assert.NotNull(page.Find("[data-testid=read-records]"));
        _pageClock.Advance(GrantRecordsPage.RecheckInterval);

        page.WaitForAssertion(() => Assert.Contains("Leak under investigation", page.Find("[data-testid=read-stopped]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=read-records]"));
    }

    private async Task<Subject> SubjectAsync(string email)
    {
        await using var connection = await Database.OpenAsync();
        var id = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = @email", new { email });
        return (await Database.Services.SubjectByIdAsync(id))!;
    }
}
