using GovernancePortal.Access;
using GovernancePortal.Requests;
using GovernancePortal.Web.Features.Account;
using Microsoft.Net.Http.Headers;

namespace GovernancePortal.Web.Features.MyData;

/// <summary>
/// <c>GET /me/requests/{reference}/export.zip</c>: the employee's copy of their data, streamed as it is
/// read. The subject comes from the sign-in; a reference that is not one of the person's own export
/// requests is not found, exactly like one that does not exist.
/// </summary>
public static class ExportEndpoints
{
    public static string DownloadPath(string reference) => $"/me/requests/{Uri.EscapeDataString(reference)}/export.zip";

    public static void MapMyDataExport(this WebApplication app) =>
        app.MapGet("/me/requests/{reference}/export.zip", DownloadAsync).RequireAuthorization(Roles.Employee);

    private static async Task<IResult> DownloadAsync(string reference, HttpContext context, SubjectExport export)
    {
        var actor = context.User.ToActor();
        if (actor.SubjectId is not { } subjectId)
            return Results.NotFound();
        DataRequest request;
        try
        {
            request = await export.FindAsync(subjectId, reference, context.RequestAborted);
        }
        catch (NotFoundProblem)
        {
            return Results.NotFound();
        }

        var response = context.Response;
        response.ContentType = SubjectExport.ContentType;
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = SubjectExport.FileName(request.Reference) }.ToString();
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            await export.WriteAsync(subjectId, request, response.Body, actor, context.RequestAborted);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The browser went away; the request records where the download stopped.
        }
        return Results.Empty;
    }
}
