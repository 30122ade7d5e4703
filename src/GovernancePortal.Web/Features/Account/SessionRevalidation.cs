using GovernancePortal.Sessions;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// A live page (a Blazor circuit) keeps the principal it started with; this checks every
/// <see cref="SessionSettings.RevalidationInterval"/> that the session behind it is still active, so
/// that after a sign-out in another tab, "sign out everywhere" or the session's end, the page stops
/// showing data and sends the person to sign in.
/// </summary>
public sealed class SessionRevalidation(ILoggerFactory loggerFactory, SessionStore sessions, SessionSettings settings, TimeProvider time)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => settings.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var user = authenticationState.User;
        if (user.Identity?.IsAuthenticated != true)
            return true;
        return user.FindFirst(PortalClaims.Session)?.Value is { } keyHash
            && await sessions.IsActiveAsync(keyHash, time.GetUtcNow(), cancellationToken);
    }
}
