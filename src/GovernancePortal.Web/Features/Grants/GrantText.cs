using GovernancePortal.Grants;

namespace GovernancePortal.Web.Features.Grants;

/// <summary>How the grant pages word a grant's state.</summary>
public static class GrantText
{
    public static string Status(GrantSummary grant, DateTimeOffset now) => grant.StatusAt(now) switch
    {
        GrantStatus.Pending => grant.ApprovalsNeeded > 1 ? $"Waiting for review ({grant.ApprovalsNeeded} officers must approve)" : "Waiting for review",
        GrantStatus.Active => "Active",
        GrantStatus.Denied => "Denied",
        GrantStatus.Revoked => "Ended early by an officer",
        _ => "Ended",
    };

    public static string When(DateTimeOffset at) => at.ToString("d MMM yyyy HH:mm") + " UTC";
}
