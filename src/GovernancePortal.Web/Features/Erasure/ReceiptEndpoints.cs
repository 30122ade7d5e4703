using GovernancePortal.Access;
using GovernancePortal.Erasure;
using GovernancePortal.Requests;
using GovernancePortal.Web.Features.Account;
using Microsoft.Net.Http.Headers;

namespace GovernancePortal.Web.Features.Erasure;

/// <summary>
/// <c>GET /me/requests/{reference}/receipt</c>: the signed receipt of one of the employee's own completed
/// erasures (docs/erasure.md, "The receipt"), to keep and check with <c>gp receipt verify</c>. The subject
/// comes from the sign-in; another person's reference, a request without a signed receipt and a reference
/// that does not exist are all simply not found.
/// </summary>
public static class ReceiptEndpoints
{
    public static string DownloadPath(string reference) => $"/me/requests/{Uri.EscapeDataString(reference)}/receipt";

    public static string FileName(string reference) => $"erasure-receipt-{reference}.txt";

    public static void MapErasureReceipts(this WebApplication app) =>
        app.MapGet("/me/requests/{reference}/receipt", DownloadAsync).RequireAuthorization(Roles.Employee);

    private static async Task<IResult> DownloadAsync(string reference, HttpContext context, RequestDesk desk)
    {
        if (context.User.ToActor().SubjectId is not { } subjectId || reference.Length > 40)
            return Results.NotFound();
        DataRequest request;
        try
        {
            request = await desk.GetForSubjectAsync(subjectId, reference, context.RequestAborted);
        }
        catch (NotFoundProblem)
        {
            return Results.NotFound();
        }
        if (ErasureReceipt.ReadUnverified(request.Receipt) is null)
            return Results.NotFound();
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = FileName(request.Reference) }.ToString();
        return Results.Text(request.Receipt!, "text/plain; charset=utf-8");
    }
}
