using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Infrastructure;

return await PortalStartup.RunGuardedAsync(async () =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddPortalCore();
    builder.AddPortalAuthentication();
    builder.AddPortalJobs();
    builder.AddPortalHealth();
    builder.AddPortalUi();

    var app = builder.Build();
    await app.PrepareDatabaseAsync();
    app.UsePortalPipeline();
    app.MapPortalHealth();
    app.MapAuthenticationEndpoints();
    app.MapDevSignIn();
    app.MapPortalJobsDashboard();
    app.MapPortalPages();
    await app.RunAsync();
});

public partial class Program;
