using Dapper;
using GovernancePortal.Demo;
using GovernancePortal.Grants;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Grants;

/// <summary>A person's grants page lists the grants made out to them by name, and nobody else's.</summary>
public sealed class GrantQueriesTests : DatabaseTests
{
    private const string InsertGrant = """
        INSERT INTO grants (principal_kind, principal, program_id, purpose, requested_by, requested_at, approved_by, approved_at, expires_at, revoked_by, revoked_at)
        VALUES (@Kind, @Principal, (SELECT id FROM programs WHERE key = @Program), @Purpose, @Principal, @RequestedAt, NULL, NULL, @ExpiresAt, @RevokedBy, @RevokedAt)
        """;

    [Theory, MemberData(nameof(Engines))]
    public async Task ForUser_ListsOwnUserGrants_NewestExpiryFirst_WithTheirCategoriesAndState(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);
        var now = db.Time.GetUtcNow();
        await using (var connection = await db.OpenAsync())
        {
            await connection.ExecuteAsync(InsertGrant, new
            {
                Kind = "user", Principal = "dana@example.com", Program = "endpoint-security", Purpose = "incident-review",
                RequestedAt = now.AddDays(-30), ExpiresAt = now.AddDays(10), RevokedBy = "omar@example.com", RevokedAt = now.AddDays(-1),
            });
            await connection.ExecuteAsync(InsertGrant, new
            {
                Kind = "user", Principal = "dana@example.com", Program = "mci", Purpose = "evaluation",
                RequestedAt = now.AddDays(-90), ExpiresAt = now.AddDays(-5), RevokedBy = (string?)null, RevokedAt = (DateTimeOffset?)null,
            });
            // A group that happens to be spelled like her address is not her grant.
            await connection.ExecuteAsync(InsertGrant, new
            {
                Kind = "group", Principal = "dana@example.com", Program = "mci", Purpose = "group-work",
                RequestedAt = now.AddDays(-1), ExpiresAt = now.AddDays(90), RevokedBy = (string?)null, RevokedAt = (DateTimeOffset?)null,
            });
        }

        var grants = await db.Get<GrantQueries>().ForUserAsync(" Dana@Example.com ", Cancellation);

        Assert.Equal([DemoData.DanaPurpose, "incident-review", "evaluation"], grants.Select(g => g.Purpose));
        Assert.Equal(["mci", "endpoint-security", "mci"], grants.Select(g => g.ProgramKey));
        Assert.Equal("Model Capability Initiative", grants[0].ProgramName);
        Assert.Equal("priya@example.com", grants[0].ApprovedBy);
        Assert.Equal(["keystrokes", "mouse_movements"], grants[0].CategoryKeys.Split(", ").Order());
        Assert.Equal("", grants[1].CategoryKeys);
        Assert.Equal([GrantStatus.Active, GrantStatus.Revoked, GrantStatus.Expired], grants.Select(g => g.StatusAt(now)));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ForUser_SomeoneWithoutGrants_SeesNone(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.Get<DemoData>().SeedAsync(Cancellation);

        Assert.Empty(await db.Get<GrantQueries>().ForUserAsync("alice@example.com", Cancellation));
    }

    [Fact]
    public void StatusAt_AnApprovedGrantBeforeItsExpiry_IsActive_AndAnUnapprovedOne_IsPending()
    {
        var now = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        var pending = new GrantSummary { ExpiresAt = now.AddDays(1) };

        Assert.Equal(GrantStatus.Pending, pending.StatusAt(now));
        Assert.Equal(GrantStatus.Active, (pending with { ApprovedAt = now.AddHours(-1) }).StatusAt(now));
        Assert.Equal(GrantStatus.Expired, (pending with { ApprovedAt = now.AddHours(-1) }).StatusAt(now.AddDays(1)));
    }
}
