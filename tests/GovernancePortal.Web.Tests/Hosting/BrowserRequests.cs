using System.Net;
using System.Net.Http.Headers;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.WebUtilities;

namespace GovernancePortal.Web.Tests.Hosting;

public static class BrowserRequests
{
    /// <summary>A GET as a browser sends it for a page: the portal redirects browsers where it answers other clients with a status code.</summary>
    public static Task<HttpResponseMessage> GetPageAsync(this HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>A page as a browser gets it, parsed (its source stays in <c>Source.Text</c>); fails the test unless the portal answered 200.</summary>
    public static async Task<IDocument> GetDocumentAsync(this HttpClient client, string url)
    {
        using var response = await client.GetPageAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The page's heading (its h1).</summary>
    public static string Heading(this IDocument page) => page.QuerySelector("h1")?.TextContent.Trim() ?? "";

    /// <summary>The text of the page's main content, without the app bar and the menu.</summary>
    public static string MainText(this IDocument page) => page.QuerySelector(".mud-main-content")?.TextContent ?? page.Source.Text;

    /// <summary>The path of a redirect's target and the value of one of its query parameters (names compared as ASP.NET Core does, ignoring case).</summary>
    public static (string Path, string? Parameter) RedirectTarget(this HttpResponseMessage response, string parameter)
    {
        var location = response.Headers.Location ?? throw new InvalidOperationException($"{(int)response.StatusCode} is not a redirect.");
        var text = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        var queryStart = text.IndexOf('?');
        var path = queryStart < 0 ? text : text[..queryStart];
        var query = queryStart < 0 ? new() : QueryHelpers.ParseQuery(text[queryStart..]);
        var value = query.FirstOrDefault(pair => string.Equals(pair.Key, parameter, StringComparison.OrdinalIgnoreCase)).Value;
        return (path, value.Count == 0 ? null : value.ToString());
    }
}
