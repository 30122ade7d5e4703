using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Access;

/// <summary>
/// Sessions and refusals in the audit log (docs/audit-log.md, "What is logged"): a sign-in, a sign-out, a
/// refused sign-in and a refused authorization each leave one event. The events say who, how and which
/// route; never a token, a claim's content, a query string or a page's content.
/// </summary>
public sealed class AccessEvents(ConnectionFactory connections, AuditLog audit)
{
    /// <summary>The actor of an event no signed-in person caused (a refused sign-in).</summary>
    public const string Anonymous = "anonymous";

    public Task SignedInAsync(Actor actor, string through, CancellationToken cancellationToken = default) =>
        AppendAsync(new AuditEntry(actor.Name, actor.Roles, AuditActions.SignedIn, Detail: $"through {through}"), cancellationToken);

    public Task SignedOutAsync(Actor actor, bool everywhere, CancellationToken cancellationToken = default) =>
        AppendAsync(new AuditEntry(actor.Name, actor.Roles, AuditActions.SignedOut,
            Detail: everywhere ? "every session of the person ended" : "this session ended"), cancellationToken);

    /// <summary>A sign-in the portal refused; <paramref name="reasonCode"/> is the code the sign-in-failed page shows.</summary>
    public Task SignInRefusedAsync(string reasonCode, string through, CancellationToken cancellationToken = default) =>
        AppendAsync(new AuditEntry(Anonymous, [], AuditActions.SignInRefused, Detail: $"reason {reasonCode}, through {through}"), cancellationToken);

    /// <summary>A signed-in person refused a route (its template, not the address asked for) by their roles.</summary>
    public Task AuthorizationRefusedAsync(Actor actor, string route, CancellationToken cancellationToken = default) =>
        AppendAsync(new AuditEntry(actor.Name, actor.Roles, AuditActions.AccessRefused, Detail: $"route {Route(route)}"), cancellationToken);

    private async Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await audit.AppendAsync(scope, entry);
        await scope.CommitAsync();
    }

    /// <summary>At most 200 characters of the route, without a query string.</summary>
    private static string Route(string route)
    {
        var path = route.Split('?', 2)[0];
        return path.Length <= 200 ? path : path[..200];
    }
}
