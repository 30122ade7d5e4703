using GovernancePortal.Web.Components;
using MudBlazor.Services;

namespace GovernancePortal.Web.Infrastructure;

public static class WebSetup
{
    public static WebApplicationBuilder AddPortalUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "gp.antiforgery";
            // Outside Development the portal is HTTPS only. Behind a proxy that ends TLS the forwarded
            // headers must say so (README); otherwise antiforgery refuses to issue its cookie at all rather
            // than issue it without the flag.
            if (!builder.Environment.IsDevelopment())
                options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
        });
        builder.Services.AddProblemDetails();
        DatabaseXmlRepository.AddSharedDataProtection(builder);
        return builder;
    }

    /// <summary>Security headers, error handling, status pages for browsers, then authentication before anything is served.</summary>
    public static WebApplication UsePortalPipeline(this WebApplication app)
    {
        // First, so that every response has the headers, error pages and static files included; it also
        // sends HSTS outside Development.
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        // Only page requests are re-executed: a re-executed POST reaches the status page as a form post
        // without its antiforgery token, which turned every 401 and 403 of a POST into a 400.
        app.UseWhen(context => (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                && !context.Request.Path.StartsWithSegments("/api"),
            branch => branch.UseStatusCodePagesWithReExecute("/status/{0}"));
        // Routing after the status pages, so a re-executed /status/{code} request is routed again.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();
        return app;
    }

    public static void MapPortalPages(this WebApplication app)
    {
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
