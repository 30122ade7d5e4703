using GovernancePortal.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// Writes an audit event for every request a signed-in person's roles refuse (a page on first load, an API),
/// with the route's template and their roles, before the refusal is answered as usual. Refusals inside a
/// live page (navigating within the app) are logged by <c>RefusedRoute</c>. Anonymous requests are sent to sign
/// in and not logged: they name nobody.
/// </summary>
public sealed class RefusalAudit(AccessEvents events) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
            await events.AuthorizationRefusedAsync(context.User.ToActor(), RouteOf(context), context.RequestAborted);
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }

    private static string RouteOf(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { Length: > 0 } template }
            ? (template.StartsWith('/') ? template : "/" + template)
            : context.Request.Path.Value ?? "/";
}
