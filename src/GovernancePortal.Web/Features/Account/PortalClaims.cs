using System.Globalization;
using System.Security.Claims;
using GovernancePortal.Access;
using GovernancePortal.Subjects;

namespace GovernancePortal.Web.Features.Account;

/// <summary>The claims of the portal's own cookie identity, whatever the sign-in path.</summary>
public static class PortalClaims
{
    public const string AuthenticationType = "portal";
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Email = "email";
    public const string Role = "role";
    public const string SubjectId = "gp_subject_id";
    /// <summary>The SHA-256 of the session's key, added when the session is stored (<see cref="DatabaseTicketStore"/>).</summary>
    public const string Session = "gp_session";

    public static ClaimsPrincipal Create(Subject subject, IEnumerable<string> roles)
    {
        var identity = new ClaimsIdentity(AuthenticationType, Name, Role);
        identity.AddClaim(new Claim(Subject, subject.ExternalId ?? ""));
        identity.AddClaim(new Claim(Name, subject.DisplayName));
        identity.AddClaim(new Claim(Email, subject.Email ?? ""));
        identity.AddClaim(new Claim(SubjectId, subject.Id.ToString(CultureInfo.InvariantCulture)));
        foreach (var role in roles.Distinct().Order(StringComparer.Ordinal))
            identity.AddClaim(new Claim(Role, role));
        return new ClaimsPrincipal(identity);
    }

    /// <summary>
    /// Whether <paramref name="principal"/> is one <see cref="Create"/> made: one identity of the portal's
    /// authentication type, naming a subject. An identity provider's principal never is.
    /// </summary>
    public static bool IsPortalPrincipal(ClaimsPrincipal? principal) =>
        principal?.Identities.ToList() is [{ AuthenticationType: AuthenticationType } identity]
        && identity.RoleClaimType == Role
        && principal.GetSubjectId() is not null;

    /// <summary>The signed-in person's subject id, taken from the server-issued cookie, never from the client's request.</summary>
    public static long? GetSubjectId(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirst(SubjectId)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>The signed-in person as the library's rules and the audit log see them.</summary>
    public static Actor ToActor(this ClaimsPrincipal user) =>
        new(user.FindFirst(Email)?.Value is { Length: > 0 } email ? email : user.Identity?.Name ?? "unknown", user.GetRoles(), user.GetSubjectId());

    public static IReadOnlyList<string> GetRoles(this ClaimsPrincipal user) =>
        user.FindAll(Role).Select(claim => claim.Value).ToList();
}
