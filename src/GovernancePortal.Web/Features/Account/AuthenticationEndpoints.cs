using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using GovernancePortal.Sessions;
using GovernancePortal.Web.Infrastructure;

namespace GovernancePortal.Web.Features.Account;

/// <summary><c>/authentication/login</c> (GET, a challenge) and <c>/authentication/logout</c> (POST with antiforgery).</summary>
public static class AuthenticationEndpoints
{
    /// <summary>Marks a sign-out that ended every session of the person, for its audit event.</summary>
    public const string EverywhereItem = "gp.everywhere";

    public static void MapAuthenticationEndpoints(this WebApplication app)
    {
        var useOidc = app.PortalOptions().Authentication.Oidc.Configured;
        var group = app.MapGroup("/authentication");

        group.MapGet("/login", (string? returnUrl) =>
        {
            var target = LocalOrRoot(returnUrl);
            if (!useOidc)
                return Results.Redirect($"{DevSignInEndpoints.Path}?returnUrl={Uri.EscapeDataString(target)}");
            return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [OpenIdConnectDefaults.AuthenticationScheme]);
        }).AllowAnonymous();

        // Antiforgery-validated because the endpoint reads the form; signing out of the identity provider
        // too ends the single sign-on session, so the next sign-in asks again.
        string[] schemes = useOidc
            ? [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]
            : [CookieAuthenticationDefaults.AuthenticationScheme];
        group.MapPost("/logout", (IFormCollection form) =>
            Results.SignOut(new AuthenticationProperties { RedirectUri = "/signed-out" }, schemes)).AllowAnonymous();

        // Ends every session of the person (other browsers, other devices, copied cookies), then this one.
        group.MapPost("/logout-everywhere", async (IFormCollection form, HttpContext context, SessionStore sessions, TimeProvider time) =>
        {
            if (context.User.GetSubjectId() is { } subjectId)
                await sessions.EndAllAsync(subjectId, SessionStore.SignedOutEverywhere, time.GetUtcNow(), context.RequestAborted);
            var properties = new AuthenticationProperties { RedirectUri = "/signed-out" };
            properties.Items[EverywhereItem] = "true";
            return Results.SignOut(properties, schemes);
        }).AllowAnonymous();
    }

    /// <summary>
    /// Only a local path may follow sign-in; anything else goes home (no open redirects). Refused: absolute
    /// and scheme-relative URLs (<c>//host</c>, <c>/\host</c>), backslashes and control characters anywhere
    /// (browsers drop tabs and newlines, so <c>/\t/host</c> is <c>//host</c>), and the same in percent-encoded form.
    /// </summary>
    public static string LocalOrRoot(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > MaxReturnUrlLength)
            return "/";
        var text = returnUrl;
        for (var round = 0; round < 3; round++)
        {
            if (!IsPlainLocalPath(text))
                return "/";
            var decoded = Uri.UnescapeDataString(text);
            if (decoded == text)
                return returnUrl;
            text = decoded;
        }
        return "/";
    }

    private const int MaxReturnUrlLength = 2048;

    private static bool IsPlainLocalPath(string path) =>
        path.StartsWith('/')
        && !path.StartsWith("//", StringComparison.Ordinal)
        && !path.Any(c => c == '\\' || char.IsControl(c) || (char.IsWhiteSpace(c) && c != ' '));
}
