using GovernancePortal.Web;
using GovernancePortal.Web.Infrastructure;

return await PortalStartup.RunGuardedAsync(async () =>
{
    var app = await PortalApp.BuildAsync(args);
    await app.RunAsync();
});

public partial class Program;
