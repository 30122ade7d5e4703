using System.Security.Claims;
using GovernancePortal.Access;
using GovernancePortal.Subjects;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// Turns an identity provider's answer into the portal's own principal, or refuses it. A refusal ends
/// the sign-in there: the person is sent to the sign-in-failed page and the remote handler signs
/// nobody in (docs/sign-in.md).
/// </summary>
public static class PortalSignIn
{
    public static string FailedPath(SignInRefusal reason) =>
        $"{AuthenticationSetup.SignInFailedPath}?reason={SignInRefusals.Code(reason)}";

    /// <summary>The OpenID Connect handler's ticket event: the provider's principal is replaced, or the sign-in is refused.</summary>
    public static async Task OnTicketReceivedAsync(TicketReceivedContext context, OidcSettings settings)
    {
        var services = context.HttpContext.RequestServices;
        var external = context.Principal;
        try
        {
            if (external is null)
                throw new SubjectProblem(SignInRefusal.ProviderError);
            var idpValues = external.FindAll(settings.RoleClaimType).Concat(external.FindAll("groups")).Select(claim => claim.Value);
            context.Principal = await PrincipalAsync(services,
                ToSignedInPerson(external, (context.Options as OpenIdConnectOptions)?.Authority, settings),
                services.GetRequiredService<RoleMap>().Map(idpValues), context.HttpContext.RequestAborted);
            context.ReturnUri = AuthenticationEndpoints.LocalOrRoot(context.ReturnUri);
            // Only the ID token is kept (in the server-side session, for the provider's sign-out); the
            // access and refresh tokens are not needed by the portal and are not stored anywhere.
            var idToken = context.Properties?.GetTokenValue("id_token");
            context.Properties?.StoreTokens(idToken is null ? [] : [new AuthenticationToken { Name = "id_token", Value = idToken }]);
        }
        catch (SubjectProblem problem)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalSignIn))
                .LogWarning("An OpenID Connect sign-in was refused: {Reason}", SignInRefusals.Code(problem.Reason));
            context.Response.Redirect(FailedPath(problem.Reason));
            // HandleResponse, not Fail: Fail lets the remote handler go on and sign in the provider's principal.
            context.HandleResponse();
            await services.GetRequiredService<AccessEvents>().SignInRefusedAsync(SignInRefusals.Code(problem.Reason), "OpenID Connect", CancellationToken.None);
        }
    }

    /// <summary>
    /// The one way a session's principal is made, for every sign-in path: the person's subject found, linked
    /// or refused (<see cref="SubjectProblem"/>), their roles recorded for the grant rules, the portal's principal built.
    /// </summary>
    public static async Task<ClaimsPrincipal> PrincipalAsync(IServiceProvider services, SignedInPerson person, IReadOnlyCollection<string> roles,
        CancellationToken cancellationToken)
    {
        var subject = await services.GetRequiredService<SubjectDirectory>().RecordSignInAsync(person, cancellationToken);
        await services.GetRequiredService<RoleRoster>().RecordAsync(subject.Id, roles, cancellationToken);
        return PortalClaims.Create(subject, roles);
    }

    /// <summary>
    /// The person as the provider asserts them. The issuer is the ID token's (each claim of the token
    /// carries it); <c>email_verified</c> is read as a JSON boolean or a string, and absent means not verified
    /// unless <c>Authentication:Oidc:EmailsAreVerified</c> says the company manages every address (an
    /// explicit <c>false</c> stays false).
    /// </summary>
    public static SignedInPerson ToSignedInPerson(ClaimsPrincipal external, string? authority, OidcSettings settings)
    {
        var sub = external.FindFirst("sub");
        var issuer = sub?.Issuer is { Length: > 0 } tokenIssuer && tokenIssuer != ClaimsIdentity.DefaultIssuer ? tokenIssuer : authority ?? "";
        var asserted = external.FindAll("email_verified").ToList();
        // The setting stands in for a claim the provider does not send; it never overrides an explicit "false".
        var verified = asserted.Count == 0
            ? settings.EmailsAreVerified
            : asserted.All(claim => bool.TryParse(claim.Value, out var value) && value);
        return new SignedInPerson(
            issuer,
            sub?.Value ?? "",
            external.FindFirstValue("email") ?? "",
            verified,
            external.FindFirstValue("name") ?? external.FindFirstValue("preferred_username") ?? "");
    }
}

/// <summary>The OpenID Connect settings the portal's own sign-in rules read (<c>Authentication:Oidc</c>).</summary>
public sealed record OidcSettings(string RoleClaimType, bool EmailsAreVerified);
