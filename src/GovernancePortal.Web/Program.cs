using GovernancePortal.Web;
using GovernancePortal.Web.Infrastructure;

return await PortalStartup.RunGuardedAsync(async () =>
{
    var app = PortalApp.Build(args);
    await app.PrepareDatabaseAsync();
    await app.RunAsync();
});

public partial class Program;
