using GovernancePortal.Web.Features.Erasure;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Features.Audit;
using GovernancePortal.Web.Features.Collection;
using GovernancePortal.Web.Features.MyData;
using GovernancePortal.Web.Infrastructure;

namespace GovernancePortal.Web;

/// <summary>The portal's table of contents: every concern is one Add or Map call beside the code it wires.</summary>
public static class PortalApp
{
    /// <summary>Builds the portal and prepares its database (migrations, demo data) before anything else touches it.</summary>
    /// <param name="configure">Lets a host in the same process (gp bench) add settings before anything reads them.</param>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The application name locates the static-asset manifest, also when another program hosts the portal.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(PortalApp).Assembly.GetName().Name });
        configure?.Invoke(builder);
        builder.AddPortalCore();
        builder.AddPortalAuthentication();
        builder.AddCollectionApi();
        builder.AddPortalJobs();
        builder.AddPortalHealth();
        builder.AddPortalUi();

        var app = builder.Build();
        await app.PrepareDatabaseAsync();
        app.UsePortalPipeline();
        app.MapPortalHealth();
        app.MapAuthenticationEndpoints();
        app.MapDevSignIn();
        app.MapCollectionApi();
        app.MapMyDataExport();
        app.MapAuditExport();
        app.MapAuditApi();
        app.MapErasureReceipts();
        app.MapPortalJobsDashboard();
        app.MapPortalPages();
        return app;
    }
}
