using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;

namespace GovernancePortal.Web.Features.Account;

/// <summary><c>/authentication/login</c> (GET, a challenge) and <c>/authentication/logout</c> (POST with antiforgery).</summary>
public static class AuthenticationEndpoints
{
    public static void MapAuthenticationEndpoints(this WebApplication app)
    {
        var useOidc = AuthenticationSetup.OidcConfigured(app.Configuration);
        var group = app.MapGroup("/authentication");

        group.MapGet("/login", (string? returnUrl, HttpContext context) =>
        {
            var target = LocalOrRoot(returnUrl);
            if (!useOidc)
                return Results.Redirect($"{DevSignInEndpoints.Path}?returnUrl={Uri.EscapeDataString(target)}");
            return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [OpenIdConnectDefaults.AuthenticationScheme]);
        }).AllowAnonymous();

        group.MapPost("/logout", async ([FromForm] string? returnUrl, HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (!useOidc)
                return Results.Redirect("/signed-out");
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/signed-out" },
                [OpenIdConnectDefaults.AuthenticationScheme]);
        }).AllowAnonymous();
    }

    /// <summary>Only a local path may follow sign-in; anything else goes home (no open redirects).</summary>
    public static string LocalOrRoot(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
