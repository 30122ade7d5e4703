using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace GovernancePortal.Web.Features.Collection;

/// <summary>
/// Collectors authenticate with <c>Authorization: Bearer gpc_…</c>. A bad or revoked token is a 401
/// with problem details; the token itself is never logged. An address that presents too many bad
/// tokens is answered 429 without a lookup until it has waited.
/// </summary>
public sealed class CollectorAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, CollectorRegistry registry, FailedTokenLimiter failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Collector";
    public const string Policy = "Collector";
    public const string CollectorIdClaim = "gp_collector_id";
    public const string ProgramIdClaim = "gp_program_id";
    public const string ProgramKeyClaim = "gp_program_key";

    private const string UnavailableItem = "gp.collector.database-unavailable";
    private const string ThrottledItem = "gp.collector.throttled";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.NoResult();
        // Checked before the lookup: an address that keeps presenting bad tokens does not reach the database.
        var address = FailedTokenLimiter.AddressOf(Context);
        if (failures.Refusal(address) is { } wait)
        {
            Context.Items[ThrottledItem] = wait;
            return AuthenticateResult.Fail("Too many failed collector tokens from this address.");
        }
        CollectorIdentity? collector;
        try
        {
            collector = await registry.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        }
        catch (Exception exception) when (DatabaseUnavailable.IsUnavailable(exception))
        {
            Context.Items[UnavailableItem] = true;
            return AuthenticateResult.Fail("The database is unavailable.");
        }
        if (collector is null)
        {
            failures.Failed(address);
            return AuthenticateResult.Fail("Unknown or revoked collector token.");
        }
        var identity = new ClaimsIdentity(
        [
            new Claim(CollectorIdClaim, collector.CollectorId.ToString(CultureInfo.InvariantCulture)),
            new Claim(ProgramIdClaim, collector.ProgramId.ToString(CultureInfo.InvariantCulture)),
            new Claim(ProgramKeyClaim, collector.ProgramKey),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items[ThrottledItem] is TimeSpan wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            return CollectionProblems.Write(Context, StatusCodes.Status429TooManyRequests, "Too many failed tokens",
                $"Too many requests from this address presented an unknown, malformed or revoked collector token; wait {seconds} s before trying again.", seconds);
        }
        if (Context.Items.ContainsKey(UnavailableItem))
            return CollectionProblems.Write(Context, StatusCodes.Status503ServiceUnavailable, "Database unavailable",
                "The portal cannot reach its database right now; nothing was stored. Retry later.", retryAfterSeconds: 30);
        Response.Headers.WWWAuthenticate = "Bearer";
        return CollectionProblems.Write(Context, StatusCodes.Status401Unauthorized, "Collector token required",
            "Send the collector's token as 'Authorization: Bearer gpc_…'. The token is unknown, malformed or was revoked.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        CollectionProblems.Write(Context, StatusCodes.Status403Forbidden, "Not a collector", "This endpoint is for collector tokens only.");

    public static CollectorIdentity From(ClaimsPrincipal user) => new(
        long.Parse(user.FindFirst(CollectorIdClaim)!.Value, CultureInfo.InvariantCulture),
        long.Parse(user.FindFirst(ProgramIdClaim)!.Value, CultureInfo.InvariantCulture),
        user.FindFirst(ProgramKeyClaim)!.Value);
}
