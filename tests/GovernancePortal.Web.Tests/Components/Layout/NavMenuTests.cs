using Bunit;
using GovernancePortal.Access;
using GovernancePortal.Web.Components.Layout;

namespace GovernancePortal.Web.Tests.Components.Layout;

public sealed class NavMenuTests : PortalComponentTest
{
    private static readonly string[] RoleAreas = ["Programs", "Request queue", "Pause checks", "My grants", "Audit log", "System", "Jobs"];

    [Fact]
    public void NavMenu_Employee_SeesHomeAndTheirOwnDataAreasOnly()
    {
        var links = RenderFor(Roles.Employee);

        Assert.Equal(["Home", "My data", "Who accessed my data", "My requests"], links.Keys);
        Assert.Equal("/me", links["My data"]);
        Assert.Equal("/me/access", links["Who accessed my data"]);
        Assert.Equal("/me/requests", links["My requests"]);
    }

    [Theory]
    [InlineData(Roles.PrivacyOfficer, "Programs", "/programs")]
    [InlineData(Roles.PrivacyOfficer, "Request queue", "/requests")]
    [InlineData(Roles.DataConsumer, "My grants", "/grants/mine")]
    [InlineData(Roles.Auditor, "Audit log", "/audit")]
    [InlineData(Roles.Admin, "System", "/admin/system")]
    [InlineData(Roles.Admin, "Jobs", "/admin/jobs")]
    [InlineData(Roles.PrivacyOfficer, "Pause checks", "/pauses")]
    public void NavMenu_RoleHolder_SeesTheirArea(string role, string area, string href)
    {
        var links = RenderFor(Roles.Employee, role);

        Assert.Equal(href, links.GetValueOrDefault(area));
        Assert.Contains("My data", links.Keys);
    }

    [Theory]
    [InlineData(Roles.PrivacyOfficer, "Programs", "Request queue", "Pause checks")]
    [InlineData(Roles.DataConsumer, "My grants")]
    [InlineData(Roles.Auditor, "Audit log")]
    [InlineData(Roles.Admin, "System", "Jobs")]
    public void NavMenu_RoleHolder_SeesNoOtherRolesArea(string role, params string[] own)
    {
        var links = RenderFor(Roles.Employee, role);

        Assert.Empty(links.Keys.Intersect(RoleAreas.Except(own)));
    }

    [Fact]
    public void NavMenu_NotSignedIn_ShowsOnlyHome()
    {
        AddAuthorization();

        var links = Links(Render<NavMenu>());

        Assert.Equal(["Home"], links.Keys);
    }

    private Dictionary<string, string?> RenderFor(params string[] roles)
    {
        var authorization = AddAuthorization();
        authorization.SetAuthorized("Test Person");
        authorization.SetRoles(roles);
        return Links(Render<NavMenu>());
    }

    private static Dictionary<string, string?> Links(IRenderedComponent<NavMenu> menu) =>
        menu.FindAll("a").ToDictionary(link => link.TextContent.Trim(), link => link.GetAttribute("href"));
}
