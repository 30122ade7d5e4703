using System.Net;
using AngleSharp.Html.Parser;
using GovernancePortal.Web.Features.Account;

namespace GovernancePortal.Web.Tests.Hosting;

/// <summary>Signs in through the real developer sign-in page, as a person with a browser would.</summary>
public static class DevSignIn
{
    public const string AntiforgeryField = "__RequestVerificationToken";

    /// <summary>A new browser-like client, signed in as the demo user <paramref name="email"/>.</summary>
    public static async Task<HttpClient> SignedInAsAsync(this PortalFactory portal, string email)
    {
        var client = portal.CreateBrowser();
        using var response = await SubmitAsync(client, email);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != "/")
            throw new InvalidOperationException($"Developer sign-in as {email} did not complete: {(int)response.StatusCode} {response.Headers.Location}");
        return client;
    }

    /// <summary>Opens the sign-in page, takes the antiforgery token from its form and submits <paramref name="user"/>.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(HttpClient client, string user, string? returnUrl = null)
    {
        var page = await client.GetStringAsync(DevSignInEndpoints.Path);
        var fields = new Dictionary<string, string>
        {
            ["user"] = user,
            [AntiforgeryField] = ReadAntiforgeryToken(page),
        };
        if (returnUrl is not null)
            fields["returnUrl"] = returnUrl;
        return await client.PostAsync(DevSignInEndpoints.Path, new FormUrlEncodedContent(fields));
    }

    /// <summary>The antiforgery token of the first form on a page that posts to <paramref name="action"/>.</summary>
    public static string ReadAntiforgeryToken(string html, string action = DevSignInEndpoints.Path)
    {
        var document = new HtmlParser().ParseDocument(html);
        var form = document.Forms.FirstOrDefault(f => f.GetAttribute("action") == action)
            ?? throw new InvalidOperationException($"The page has no form that posts to {action}.");
        return form.QuerySelector($"input[name={AntiforgeryField}]")?.GetAttribute("value")
            ?? throw new InvalidOperationException($"The form that posts to {action} has no antiforgery token.");
    }
}
