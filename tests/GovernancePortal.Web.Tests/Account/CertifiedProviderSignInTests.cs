using GovernancePortal.Testing;
using System.Net;
using AngleSharp.Html.Parser;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Subjects;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Tests.Collection;
using GovernancePortal.Web.Tests.Hosting;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// Sign-in through a certified OpenID Provider (npm oidc-provider, see <see cref="CertifiedProvider"/>):
/// the portal builds every session itself, maps only configured groups to roles, refuses what it cannot
/// match safely without leaving a session behind, and links a collected subject only to a verified email.
/// Run once with the scope claims at the userinfo endpoint only and once with them in the ID token too.
/// </summary>
public abstract class CertifiedProviderSignInTests(CertifiedProviderPortal portal)
{
    /// <summary>Pages for officers, auditors and admins (the job dashboard is at /admin/jobs); none is open to a plain employee or to nobody.</summary>
    private static readonly string[] StaffPages = ["/programs", "/requests", "/audit", "/admin/system", "/admin/jobs"];

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NewPersonInAMappedGroup_GetsExactlyThatRole()
    {
        using var signIn = await portal.SignInAsync("nina", "/programs");
        var browser = signIn.Browser.Client;

        Assert.Equal("/programs", SignedInTarget(signIn));
        var home = await browser.GetDocumentAsync("/");
        Assert.Equal("Nina Newhire", home.QuerySelector(".gp-user-name")?.TextContent.Trim());
        Assert.Equal($"{Roles.Employee} · {Roles.PrivacyOfficer}", home.QuerySelector(".gp-user-roles")?.TextContent.Trim());
        using var programs = await browser.GetPageAsync("/programs");
        Assert.Equal(HttpStatusCode.OK, programs.StatusCode);
        Assert.Contains("Model Capability Initiative", await programs.Content.ReadAsStringAsync(Cancellation));
        using var requests = await browser.GetPageAsync("/requests");
        Assert.Equal(HttpStatusCode.OK, requests.StatusCode);
        foreach (var page in new[] { "/audit", "/admin/system", "/admin/jobs" })
            await AssertDeniedAsync(browser, page);
    }

    [Fact]
    public async Task NewPerson_IsRecordedWithTheProvidersIssuerAndSubject()
    {
        using var signIn = await portal.SignInAsync("nina", "/me");

        Assert.Equal("/me", SignedInTarget(signIn));
        var subject = await portal.Database.Services.SubjectByExternalIdAsync("op-nina-4b1e");
        Assert.NotNull(subject);
        Assert.Equal(portal.Provider.Issuer, subject.ExternalIssuer);
        Assert.Equal("nina.newhire@example.com", subject.Email);
        Assert.Equal("Nina Newhire", subject.DisplayName);
    }

    [Fact]
    public async Task RawGroupValues_NeverActAsRoles()
    {
        // Her provider groups are spelled exactly like the portal's roles, and none is in the RoleMap.
        using var signIn = await portal.SignInAsync("raw", "/me");
        var browser = signIn.Browser.Client;

        Assert.Equal("/me", SignedInTarget(signIn));
        using var myData = await browser.GetPageAsync("/me");
        Assert.Equal(HttpStatusCode.OK, myData.StatusCode);
        foreach (var page in StaffPages)
            await AssertDeniedAsync(browser, page);
        var home = await browser.GetDocumentAsync("/");
        Assert.Equal(Roles.Employee, home.QuerySelector(".gp-user-roles")?.TextContent.Trim());
    }

    [Fact]
    public async Task EmailOfAnotherLinkedSubject_IsRefusedAndHoldsNoSession()
    {
        // Mallory's verified email is alice@example.com, a demo subject already linked to another identity,
        // and her groups are spelled like the portal's roles.
        var alice = await ExternalIdOfAsync("alice@example.com");

        using var signIn = await portal.SignInAsync("mallory", "/programs");

        await AssertRefusedAsync(signIn, SignInRefusal.EmailBelongsToAnotherAccount);
        Assert.Equal(alice, await ExternalIdOfAsync("alice@example.com"));
    }

    [Fact]
    public async Task UnverifiedEmail_DoesNotClaimTheCollectedSubject()
    {
        const string email = "uma.collected@example.com";
        await CollectAboutAsync(email);

        using var signIn = await portal.SignInAsync("unverified", "/me");

        await AssertRefusedAsync(signIn, SignInRefusal.EmailUnverified);
        Assert.Null(await ExternalIdOfAsync(email));
        Assert.Equal(1, await SubjectsWithEmailAsync(email));
    }

    [Fact]
    public async Task EmailWithoutAVerifiedClaim_DoesNotClaimTheCollectedSubject()
    {
        // No email_verified claim at all, as Entra ID sends; only Authentication:Oidc:EmailsAreVerified trusts that.
        const string email = "una.collected@example.com";
        await CollectAboutAsync(email);

        using var signIn = await portal.SignInAsync("unasserted", "/me");

        await AssertRefusedAsync(signIn, SignInRefusal.EmailUnverified);
        Assert.Null(await ExternalIdOfAsync(email));
    }

    [Fact]
    public async Task VerifiedEmail_LinksTheCollectedSubject()
    {
        const string email = "vera.collected@example.com";
        var program = await CollectAboutAsync(email);

        using var signIn = await portal.SignInAsync("verified", "/me");

        Assert.Equal("/me", SignedInTarget(signIn));
        var myData = await signIn.Browser.Client.GetDocumentAsync("/me");
        Assert.Contains(program.Name, myData.MainText());
        Assert.Contains("op-verified-2a8d", await ExternalIdOfAsync(email) ?? "");
        Assert.Equal(1, await SubjectsWithEmailAsync(email));
    }

    [Fact]
    public async Task VerifiedEmailSentAsAString_LinksTheCollectedSubject()
    {
        // "email_verified": "true", a JSON string, as AWS Cognito sends it.
        const string email = "stella.collected@example.com";
        var program = await CollectAboutAsync(email);

        using var signIn = await portal.SignInAsync("stringy", "/me");

        Assert.Equal("/me", SignedInTarget(signIn));
        var myData = await signIn.Browser.Client.GetDocumentAsync("/me");
        Assert.Contains(program.Name, myData.MainText());
    }

    [Fact]
    public async Task CancelledAtTheProvider_LandsOnSignInFailedAndHoldsNoSession()
    {
        using var signIn = await portal.SignInAsync(account: null, "/programs");

        await AssertRefusedAsync(signIn, SignInRefusal.ProviderError);
    }

    [Fact]
    public async Task SignOut_EndsTheSessionAtThePortalAndAtTheProvider()
    {
        using var signIn = await portal.SignInAsync("raw", "/me");
        Assert.Equal("/me", SignedInTarget(signIn));
        var browser = signIn.Browser.Client;
        var session = signIn.Browser.Session!;
        var home = await browser.GetStringAsync("/", Cancellation);

        using var signOut = await browser.PostAsync("/authentication/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [DevSignIn.AntiforgeryField] = DevSignIn.ReadAntiforgeryToken(home, "/authentication/logout"),
        }), Cancellation);
        Assert.True(CertifiedProvider.IsRedirect(signOut) && portal.Provider.Serves(signOut.Headers.Location!),
            $"Signing out answered {(int)signOut.StatusCode} {signOut.Headers.Location}, not a redirect to the provider's end-session endpoint");
        using var endSession = await portal.Provider.ConfirmSignOutAsync(signIn.ProviderBrowser, signOut.Headers.Location!);
        Assert.True(CertifiedProvider.IsRedirect(endSession), $"The provider answered the sign-out with {(int)endSession.StatusCode}");
        Assert.Equal(new Uri(CertifiedProviderPortal.Address, "/signout-callback-oidc").AbsoluteUri, endSession.Headers.Location!.GetLeftPart(UriPartial.Path));
        using var signedOut = await browser.GetAsync(endSession.Headers.Location, Cancellation);
        Assert.Equal("/signed-out", signedOut.Headers.Location?.OriginalString);

        // The copied cookie of the ended session, presented by another browser.
        using var replay = portal.CreateBrowser();
        replay.Cookies.Add(CertifiedProviderPortal.Address, new System.Net.Cookie(session.Name, session.Value, "/"));
        foreach (var client in new[] { browser, replay.Client })
        {
            using var myData = await client.GetPageAsync("/me");
            Assert.True(IsSignInRedirect(myData), $"After sign-out /me answered {(int)myData.StatusCode} {myData.Headers.Location}");
        }
    }

    /// <summary>Where a completed sign-in sends the browser; fails, with what the portal said, if it did not complete.</summary>
    protected static string? SignedInTarget(SignIn signIn)
    {
        Assert.True(CertifiedProvider.IsRedirect(signIn.Callback), $"The portal's callback answered {(int)signIn.Callback.StatusCode}");
        Assert.NotEqual(AuthenticationSetup.SignInFailedPath, signIn.Callback.RedirectTarget("returnUrl").Path);
        Assert.NotNull(signIn.Browser.Session);
        return signIn.Callback.Headers.Location?.OriginalString;
    }

    /// <summary>
    /// A refused sign-in: no session cookie first of all, then the sign-in-failed page naming
    /// <paramref name="reason"/>, and every staff page sending the browser to sign in.
    /// </summary>
    protected async Task AssertRefusedAsync(SignIn signIn, SignInRefusal reason)
    {
        var browser = signIn.Browser.Client;
        if (signIn.Browser.Session is { } session)
        {
            var open = new List<string>();
            foreach (var staffPage in StaffPages)
            {
                using var response = await browser.GetPageAsync(staffPage);
                if (response.StatusCode == HttpStatusCode.OK)
                    open.Add(staffPage);
            }
            Assert.Fail($"A refused sign-in left a {session.Name} cookie; the portal's callback sent the browser to "
                + $"{signIn.Callback.Headers.Location}; with that cookie {(open.Count == 0 ? "no staff page answers 200" : "these staff pages answer 200: " + string.Join(", ", open))}.");
        }
        Assert.False(signIn.Callback.Headers.TryGetValues("Set-Cookie", out var cookies)
            && cookies.Any(cookie => cookie.StartsWith(CertifiedProviderPortal.SessionCookie, StringComparison.Ordinal) && !cookie.Contains("=;", StringComparison.Ordinal)),
            "The callback set a session cookie");
        Assert.Equal(HttpStatusCode.Redirect, signIn.Callback.StatusCode);
        Assert.Equal(PortalSignIn.FailedPath(reason), signIn.Callback.Headers.Location?.OriginalString);

        using var failed = await browser.GetPageAsync(signIn.Callback.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        var page = new HtmlParser().ParseDocument(await failed.Content.ReadAsStringAsync(Cancellation));
        Assert.Contains(SignInRefusals.Describe(reason).Summary, page.Body?.TextContent);
        foreach (var staffPage in StaffPages)
        {
            using var response = await browser.GetPageAsync(staffPage);
            Assert.True(IsSignInRedirect(response),
                $"After a refused sign-in {staffPage} answered {(int)response.StatusCode} {response.Headers.Location} instead of sending the browser to sign in");
        }
        Assert.Null(signIn.Browser.Session);
    }

    /// <summary>Sent to sign in: to the provider's authorization endpoint, or to the portal's login path on the way there.</summary>
    private bool IsSignInRedirect(HttpResponseMessage response) =>
        CertifiedProvider.IsRedirect(response)
        && (portal.Provider.Serves(response.Headers.Location!) || response.RedirectTarget("returnUrl").Path == "/authentication/login");

    /// <summary>Denied to a signed-in person: 403, or for a browser the access-denied page.</summary>
    protected static async Task AssertDeniedAsync(HttpClient browser, string page)
    {
        using var response = await browser.GetPageAsync(page);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden
            || response.StatusCode == HttpStatusCode.Redirect && response.RedirectTarget("returnUrl").Path == "/access-denied",
            $"{page} answered {(int)response.StatusCode} {response.Headers.Location}, not a denial");
    }

    /// <summary>A collector sends one record about <paramref name="email"/>, which creates that person's subject, not yet linked to anyone.</summary>
    protected async Task<CollectingProgram> CollectAboutAsync(string email)
    {
        var program = await CollectApi.ProgramAsync(portal.Factory, "keystrokes");
        using var collector = portal.Factory.Collector(program.Token);
        using var response = await collector.PostAsync(CollectApi.Array(CollectApi.Record(email, "keystrokes")));
        await CollectApi.AnswerIsAsync(response, accepted: 1);
        Assert.Null(await ExternalIdOfAsync(email));
        return program;
    }

    protected async Task<string?> ExternalIdOfAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<string?>("SELECT external_id FROM subjects WHERE email = @Email", new { Email = email });
    }

    protected async Task<long> SubjectsWithEmailAsync(string email)
    {
        await using var connection = await portal.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM subjects WHERE email = @Email", new { Email = email });
    }
}

/// <summary>oidc-provider as it comes: for the code flow, email, email_verified and groups only at the userinfo endpoint.</summary>
public sealed class CertifiedProviderUserInfoClaimsTests(CertifiedProviderUserInfoClaimsTests.Portal portal)
    : CertifiedProviderSignInTests(portal), IClassFixture<CertifiedProviderUserInfoClaimsTests.Portal>
{
    public sealed class Portal() : CertifiedProviderPortal(claimsInIdToken: false);
}

/// <summary>The scope claims in the ID token as well, as Entra ID, Keycloak and Okta send them.</summary>
public sealed class CertifiedProviderIdTokenClaimsTests(CertifiedProviderIdTokenClaimsTests.Portal portal)
    : CertifiedProviderSignInTests(portal), IClassFixture<CertifiedProviderIdTokenClaimsTests.Portal>
{
    public sealed class Portal() : CertifiedProviderPortal(claimsInIdToken: true);
}

/// <summary>A provider whose emails the company manages (Authentication:Oidc:EmailsAreVerified=true), which sends no email_verified.</summary>
public sealed class CertifiedProviderManagedEmailsTests(CertifiedProviderManagedEmailsTests.Portal portal)
    : IClassFixture<CertifiedProviderManagedEmailsTests.Portal>
{
    [Fact]
    public async Task EmailWithoutAVerifiedClaim_WhenEmailsAreVerified_LinksTheCollectedSubject()
    {
        const string email = "una.collected@example.com";
        var program = await CollectApi.ProgramAsync(portal.Factory, "keystrokes");
        using (var collector = portal.Factory.Collector(program.Token))
        using (var response = await collector.PostAsync(CollectApi.Array(CollectApi.Record(email, "keystrokes"))))
            await CollectApi.AnswerIsAsync(response, accepted: 1);

        using var signIn = await portal.SignInAsync("unasserted", "/me");

        Assert.True(CertifiedProvider.IsRedirect(signIn.Callback), $"The portal's callback answered {(int)signIn.Callback.StatusCode}");
        Assert.Equal("/me", signIn.Callback.Headers.Location?.OriginalString);
        Assert.NotNull(signIn.Browser.Session);
        var myData = await signIn.Browser.Client.GetDocumentAsync("/me");
        Assert.Contains(program.Name, myData.MainText());
    }

    public sealed class Portal() : CertifiedProviderPortal(claimsInIdToken: true, new Dictionary<string, string?>
    {
        ["Authentication:Oidc:EmailsAreVerified"] = "true",
    });
}
