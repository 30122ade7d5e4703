using Bunit;
using GovernancePortal.Access;
using GovernancePortal.Subjects;
using GovernancePortal.Web.Components.Layout;
using GovernancePortal.Web.Features.Account;

namespace GovernancePortal.Web.Tests.Components.Layout;

public sealed class UserBadgeTests : PortalComponentTest
{
    private readonly IRenderedComponent<UserBadge> _badge;

    public UserBadgeTests()
    {
        var priya = new Subject { Id = 3, ExternalId = "demo|priya@example.com", Email = "priya@example.com", DisplayName = "Priya Raman" };
        _badge = Render<UserBadge>(parameters => parameters
            .Add(badge => badge.User, PortalClaims.Create(priya, [Roles.PrivacyOfficer, Roles.Employee])));
    }

    [Fact]
    public void UserBadge_SignedInPerson_ShowsNameAndRoles()
    {
        Assert.Equal("Priya Raman", _badge.Find(".gp-user-name").TextContent.Trim());
        Assert.Equal("Employee · PrivacyOfficer", _badge.Find(".gp-user-roles").TextContent.Trim());
    }

    [Fact]
    public void UserBadge_SignOut_IsAPostFormWithAntiforgeryToken()
    {
        var form = _badge.Find("form");

        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal("/authentication/logout", form.GetAttribute("action"));
        Assert.Equal(PortalComponentTest.AntiforgeryToken, form.QuerySelector("input[type=hidden][name=__RequestVerificationToken]")?.GetAttribute("value"));
        var submit = Assert.Single(form.QuerySelectorAll("button[type=submit]"));
        Assert.Equal("Sign out", submit.TextContent.Trim());
        Assert.Empty(_badge.FindAll("a[href*='logout']"));
    }
}
