using GovernancePortal.Web.Components;
using MudBlazor.Services;

namespace GovernancePortal.Web.Infrastructure;

public static class WebSetup
{
    /// <summary>The largest message a browser may send the live circuit, the handed-over page state included.</summary>
    public const int MaxCircuitMessageBytes = 1024 * 1024;

    public static WebApplicationBuilder AddPortalUi(this WebApplicationBuilder builder)
    {
        // A page read while prerendering is handed to the live circuit ([PersistentState]): the browser sends it back
        // when the circuit starts. A page of 100 audit events or records is more than SignalR's default 32 KiB a
        // message, which closed the circuit before it started (the page stayed prerendered and dead).
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(options => options.MaximumReceiveMessageSize = MaxCircuitMessageBytes);
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
