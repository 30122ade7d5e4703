using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Web.Features.Account;
using GovernancePortal.Web.Features.Collection;
using Microsoft.Net.Http.Headers;

namespace GovernancePortal.Web.Features.Audit;

/// <summary>
/// Auditors' exports of the log (docs/audit-log.md, "Exports"): <c>GET /api/v1/audit/export?from=&amp;to=&amp;format=</c>
/// streams a range as CSV or JSON Lines, <c>GET /api/v1/audit/export/manifest</c> returns the signed manifest of
/// the same range. Auditors only; bad parameters are 400 problem details, written before anything is exported.
/// </summary>
public static class AuditExportEndpoints
{
    public const string ExportPath = "/api/v1/audit/export";
    public const string ManifestPath = "/api/v1/audit/export/manifest";

    /// <summary>The address of an export or its manifest with these parameters (blank ones left out).</summary>
    public static string Link(string path, string? from, string? to, string? format)
    {
        var query = new List<string>();
        if (!string.IsNullOrWhiteSpace(from))
            query.Add("from=" + Uri.EscapeDataString(from.Trim()));
        if (!string.IsNullOrWhiteSpace(to))
            query.Add("to=" + Uri.EscapeDataString(to.Trim()));
        if (!string.IsNullOrWhiteSpace(format))
            query.Add("format=" + Uri.EscapeDataString(format.Trim()));
        return query.Count == 0 ? path : $"{path}?{string.Join('&', query)}";
    }

    public static void MapAuditExport(this WebApplication app)
    {
        app.MapGet(ExportPath, ExportAsync).RequireAuthorization(Roles.Auditor);
        app.MapGet(ManifestPath, ManifestAsync).RequireAuthorization(Roles.Auditor);
    }

    private static async Task<IResult> ExportAsync(string? from, string? to, string? format, HttpContext context, AuditExport export)
    {
        AuditExportPlan plan;
        try
        {
            plan = await export.StartAsync(from, to, format, context.User.ToActor(), context.RequestAborted);
        }
        catch (RuleViolation violation)
        {
            return BadRequest(violation);
        }

        var response = context.Response;
        response.ContentType = AuditExportWriter.ContentType(plan.Format);
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = plan.FileName }.ToString();
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        // The range as resolved: fetching the manifest with these seq bounds describes exactly these bytes.
        var from_ = plan.Range.From.ToString(CultureInfo.InvariantCulture);
        var to_ = plan.Range.To.ToString(CultureInfo.InvariantCulture);
        response.Headers["Audit-Range"] = $"{from_}-{to_}";
        response.Headers.Link = $"<{Link(ManifestPath, from_, to_, AuditExportWriter.Name(plan.Format))}>; rel=\"describedby\"";
        try
        {
            await export.WriteAsync(plan, response.Body, context.RequestAborted);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The auditor went away; the export's audit event already says what was asked for.
        }
        return Results.Empty;
    }

    private static async Task<IResult> ManifestAsync(string? from, string? to, string? format, HttpContext context, AuditExport export)
    {
        try
        {
            var manifest = await export.ManifestAsync(from, to, format, context.User.ToActor(), context.RequestAborted);
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment")
            {
                FileNameStar = $"audit-{manifest.From}-{manifest.To}.{manifest.Format}.manifest.json",
            }.ToString();
            return Results.Text(manifest.ToJson(), "application/json; charset=utf-8");
        }
        catch (RuleViolation violation)
        {
            return BadRequest(violation);
        }
    }

    private static IResult BadRequest(RuleViolation violation) =>
        CollectionProblems.Result(StatusCodes.Status400BadRequest, "The export's parameters are not valid", violation.Message);
}
