using System.Security.Claims;
using GovernancePortal.Web.Features.Account;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>How the provider's claims become the person the subject directory links.</summary>
public sealed class PortalSignInTests
{
    private const string Issuer = "https://idp.example.test";

    [Theory]
    [InlineData("true", false, true)]
    [InlineData("True", false, true)]
    [InlineData("false", false, false)]
    [InlineData("false", true, false)]
    [InlineData("yes", false, false)]
    [InlineData(null, false, false)]
    [InlineData(null, true, true)]
    public void EmailVerified_OnlyAnAssertedTrueOrTheSettingForAnAbsentClaim(string? claim, bool emailsAreVerified, bool expected)
    {
        var claims = new List<Claim> { new("sub", "idp-1", ClaimValueTypes.String, Issuer), new("email", "ada@example.com", ClaimValueTypes.String, Issuer) };
        if (claim is not null)
            claims.Add(new Claim("email_verified", claim, ClaimValueTypes.String, Issuer));

        var person = PortalSignIn.ToSignedInPerson(new ClaimsPrincipal(new ClaimsIdentity(claims, "oidc")), Issuer + "/", new OidcSettings("roles", emailsAreVerified));

        Assert.Equal(expected, person.EmailVerified);
        Assert.Equal((Issuer, "idp-1", "ada@example.com"), (person.Issuer, person.ExternalId, person.Email));
    }
}
