using System.Net.Http.Headers;
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
