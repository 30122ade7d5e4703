using GovernancePortal.Access;
using GovernancePortal.Demo;
using GovernancePortal.Subjects;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using GovernancePortal.Web.Infrastructure;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// Developer sign-in as one of the demo users (docs/sign-in.md). Mapped only when
/// <see cref="DevSignInOptions.Enabled"/> says so; anywhere else the path does not exist.
/// </summary>
public static class DevSignInEndpoints
{
    public const string Path = "/account/dev-sign-in";

    public static void MapDevSignIn(this WebApplication app)
    {
        if (!app.PortalOptions().Authentication.DevSignIn.Enabled)
            return;
        app.Logger.LogWarning("Developer sign-in is ON at {Path}: anyone who can reach the portal can sign in as any demo user.", Path);

        app.MapGet(Path, (string? returnUrl, string? error) =>
            new RazorComponentResult<DevSignInPage>(new
            {
                ReturnUrl = AuthenticationEndpoints.LocalOrRoot(returnUrl),
                Error = error == "unknown-user" ? "Choose one of the demo users listed below." : null,
            })).AllowAnonymous();

        app.MapPost(Path, async ([FromForm] string? user, [FromForm] string? returnUrl, HttpContext context) =>
        {
            var target = AuthenticationEndpoints.LocalOrRoot(returnUrl);
            var demoUser = string.IsNullOrWhiteSpace(user) ? null : DemoData.FindUser(user);
            if (demoUser is null)
                return Results.Redirect($"{Path}?error=unknown-user&returnUrl={Uri.EscapeDataString(target)}");
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
                await PortalSignIn.PrincipalAsync(context.RequestServices, demoUser.ToSignedInPerson(), demoUser.Roles, context.RequestAborted));
            return Results.Redirect(target);
        }).AllowAnonymous();
    }
}
