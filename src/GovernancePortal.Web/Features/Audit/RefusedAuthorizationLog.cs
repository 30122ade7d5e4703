using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Web.Features.Account;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace GovernancePortal.Web.Features.Audit;

/// <summary>
/// Writes an <c>authorization.refused</c> event for every request a signed-in person makes to a route their roles
/// do not allow, before the 403 (or the access-denied page) is sent: who, their roles, the method and the route's
/// pattern — never its values, its query or its body. Anonymous requests are answered without an event: they name
/// nobody, and logging them would let anyone fill the log.
/// </summary>
public sealed class RefusedAuthorizationLog(ConnectionFactory connections, AuditLog audit) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _answer = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            var actor = context.User.ToActor();
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            await using var scope = await connections.BeginWriteAsync(context.RequestAborted);
            await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.AuthorizationRefused,
                Detail: $"{context.Request.Method} {(route.StartsWith('/') ? route : "/" + route)}"));
            await scope.CommitAsync();
        }
        await _answer.HandleAsync(next, context, policy, authorizeResult);
    }
}

public static class RefusedAuthorizationLogSetup
{
    public static WebApplicationBuilder AddRefusedAuthorizationLog(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, RefusedAuthorizationLog>();
        return builder;
    }
}
