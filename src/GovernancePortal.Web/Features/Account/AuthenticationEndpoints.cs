using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

namespace GovernancePortal.Web.Features.Account;

/// <summary><c>/authentication/login</c> (GET, a challenge) and <c>/authentication/logout</c> (POST with antiforgery).</summary>
public static class AuthenticationEndpoints
{
    public static void MapAuthenticationEndpoints(this WebApplication app)
    {
        var useOidc = AuthenticationSetup.OidcConfigured(app.Configuration);
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
    }

    /// <summary>Only a local path may follow sign-in; anything else goes home (no open redirects).</summary>
    public static string LocalOrRoot(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
