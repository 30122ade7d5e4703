using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace GovernancePortal.Web.Features.Collection;

/// <summary>RFC 7807 problem details for the collection API.</summary>
public static class CollectionProblems
{
    public static IResult Result(int status, string title, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(status, title, detail, retryAfterSeconds);

    public static Task Write(HttpContext context, int status, string title, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(status, title, detail, retryAfterSeconds).ExecuteAsync(context);

    private sealed class ProblemResult(int status, string title, string detail, int? retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            if (retryAfterSeconds is { } seconds)
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(new ProblemDetails
            {
                Status = status,
                Title = title,
                Detail = detail,
                Type = $"https://httpstatuses.io/{status}",
                Instance = context.Request.Path,
            }).ExecuteAsync(context);
        }
    }
}
