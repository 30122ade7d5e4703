using System.Security.Cryptography;

namespace GovernancePortal.Web.Infrastructure;

/// <summary>
/// The browser hardening headers on every response: pages, static files, API answers, redirects and
/// error pages. docs/architecture.md ("Security headers") explains each source of the policy.
/// </summary>
public static class SecurityHeaders
{
    private const string NonceKey = "gp.script-nonce";

    /// <summary>
    /// The one inline script the portal renders, the import map of fingerprinted JavaScript modules
    /// (App.razor), carries this per-request nonce; any other inline script is refused by the browser.
    /// </summary>
    public static string ScriptNonce(HttpContext context) =>
        context.Items[NonceKey] as string ?? throw new InvalidOperationException("UseSecurityHeaders must run before any page renders.");

    /// <summary>Must be the first middleware, so that error and status pages get the headers too.</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        var formTargets = FormTargets(app.PortalOptions().Authentication.Oidc);
        var strictTransport = !app.Environment.IsDevelopment();
        app.Use((context, next) =>
        {
            var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            context.Items[NonceKey] = nonce;
            // Written when the response starts, not now: the exception handler clears the headers of a
            // failed response before it renders the error page, and the policy must reach that page too.
            context.Response.OnStarting(() =>
            {
                Write(context, nonce, formTargets, strictTransport);
                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }

    public static string ContentSecurityPolicy(string nonce, string formTargets) => string.Join("; ",
        "default-src 'self'",
        // blazor.web.js and MudBlazor.min.js are files of our own origin; the nonce admits the import map
        // only. Blazor Server needs no 'unsafe-eval' (only WebAssembly does).
        $"script-src 'self' 'nonce-{nonce}'",
        // MudBlazor writes style attributes into its markup (popovers, progress bars, the pages' own Style
        // parameters) and MudThemeProvider renders the palette as an inline <style> element that changes
        // with the theme, so inline styles must be allowed. No nonce here: a nonce would switch
        // 'unsafe-inline' off. Styles cannot run script, and script-src stays strict.
        "style-src 'self' 'unsafe-inline'",
        // MudBlazor's stylesheet embeds a small data: image (a checkered background).
        "img-src 'self' data:",
        "font-src 'self'",
        // The circuit's SignalR WebSocket goes to this origin; CSP level 3 lets 'self' match ws: and wss:.
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        $"form-action {formTargets}");

    private static void Write(HttpContext context, string nonce, string formTargets, bool strictTransport)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy(nonce, formTargets);
        headers.XContentTypeOptions = "nosniff";
        // Paths name programs and request references; another site learns at most the portal's origin.
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
        headers["Permissions-Policy"] =
            "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";
        // Outside Development the portal is reached over HTTPS only. Browsers ignore the header on plain
        // HTTP, so it is sent on HTTPS requests only. Without includeSubDomains: the portal does not
        // speak for other hosts of the company's domain.
        if (strictTransport && context.Request.IsHttps)
            headers.StrictTransportSecurity = "max-age=31536000";
    }

    /// <summary>
    /// Where forms may go, including through redirects: the portal itself, and the identity provider,
    /// because signing out is a form post that the OpenID Connect handler redirects to the provider's
    /// end-session endpoint (browsers apply form-action to that redirect too). The handler must keep its
    /// default redirect (GET) sign-out and sign-in: its form-post variant writes an inline auto-submit
    /// script that script-src refuses.
    /// </summary>
    private static string FormTargets(OidcOptions oidc) =>
        Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority)
            ? $"'self' {authority.GetLeftPart(UriPartial.Authority)}"
            : "'self'";
}
