using GovernancePortal.Requests;

namespace GovernancePortal.Web.Features.Requests;

/// <summary>How a request reads for people, on the employee's page and in the officers' queue alike.</summary>
public static class RequestText
{
    public static string Describe(DataRequest request)
    {
        var what = request.Kind switch
        {
            RequestKind.Erasure => "Erasure",
            RequestKind.Export => "Copy of my data",
            RequestKind.Objection => "Objection",
            _ => request.Kind,
        };
        var scope = request.ProgramKey is null ? "all programs" : request.CategoryKey is null ? request.ProgramKey : $"{request.ProgramKey} / {request.CategoryKey}";
        return $"{what} ({scope})";
    }

    public static string Status(DataRequest request, DateTimeOffset now) => request.OnHold ? "On hold" : request.Status switch
    {
        // A copy is served the moment its owner downloads it: nothing waits on the company.
        RequestStatus.Received when request.Kind == RequestKind.Export => "Ready to download",
        RequestStatus.Received => now > request.EffectiveDueAt ? "Received, overdue" : "Received, waiting to be carried out",
        RequestStatus.InProgress when request.Kind == RequestKind.Export => request.ProgressStoppedAt is null ? "Download under way" : "Download stopped before its end",
        RequestStatus.InProgress => "In progress",
        RequestStatus.Completed => $"Completed {request.CompletedAt:d MMM yyyy}",
        RequestStatus.Upheld => "Objection upheld: collection stays stopped",
        RequestStatus.Rejected => "Objection rejected: collection resumed",
        _ => request.Status,
    };

    public static int DaysLeft(DataRequest request, DateTimeOffset now) => (int)Math.Floor((request.EffectiveDueAt - now).TotalDays);
}
