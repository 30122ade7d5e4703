using GovernancePortal.Access;
using MudBlazor;

namespace GovernancePortal.Web.Components.Layout;

/// <summary>An area of the portal: where it is, who may enter, and what it holds.</summary>
public sealed record PortalArea(string Title, string Href, string Icon, string Role, string Holds, bool ExternalPage = false);

/// <summary>The areas in menu order. The menu shows those of the signed-in person's roles; the home page describes them.</summary>
public static class PortalAreas
{
    public static readonly IReadOnlyList<PortalArea> All =
    [
        new("My data", "/me", Icons.Material.Filled.Person, Roles.Employee,
            "Every monitoring program that collects data about you, what each category holds, how long it is kept, and the records themselves."),
        new("Who accessed my data", "/me/access", Icons.Material.Filled.ManageSearch, Roles.Employee,
            "Everyone else who looked at or changed your data: who, in what role, when, how many records, under which grant and for what purpose."),
        new("My requests", "/me/requests", Icons.Material.Filled.Inbox, Roles.Employee,
            "Your erasure, copy and objection requests with their legal due dates, decisions and receipts."),
        new("Programs", "/programs", Icons.Material.Filled.Policy, Roles.PrivacyOfficer,
            "The register of monitoring programs: purpose, legal basis, owner, categories with sensitivity and retention."),
        new("Request queue", "/requests", Icons.Material.Filled.AssignmentLate, Roles.PrivacyOfficer,
            "Employees' requests, the most urgent first: extend deadlines with a reason, review objections."),
        new("Grant reviews", "/grants", Icons.Material.Filled.GppMaybe, Roles.PrivacyOfficer,
            "Data consumers' requests to read records: approve or deny with a note, end a grant early, see every grant's history."),
        new("My grants", "/grants/mine", Icons.Material.Filled.VpnKey, Roles.DataConsumer,
            "The approved, expiring grants that let you read a program's records for a stated purpose, and the records themselves."),
        new("Ask for access", "/grants/ask", Icons.Material.Filled.AddModerator, Roles.DataConsumer,
            "Ask for a grant: one program, the categories you need, your purpose and justification, and an end."),
        new("Retention", "/retention", Icons.Material.Filled.AutoDelete, Roles.PrivacyOfficer,
            "Each category's records against its retention (oldest, overdue, kept by a legal hold) and every run of the retention sweep."),
        new("Pause checks", "/pauses", Icons.Material.Filled.PauseCircle, Roles.PrivacyOfficer,
            "Every pause checked against the records: none may arrive after a pause commits. Alerts, and pauses open long enough to review."),
        new("Legal holds", "/holds", Icons.Material.Filled.Gavel, Roles.PrivacyOfficer,
            "Holds that keep a person's or a program's data from retention and erasure: place, review and release them."),
        new("Audit log", "/audit", Icons.Material.Filled.FactCheck, Roles.Auditor,
            "The append-only, hash-chained log of every access and every change."),
        new("System", "/admin/system", Icons.Material.Filled.MonitorHeart, Roles.Admin,
            "Database engine and schema state, health endpoints and background jobs."),
        new("Jobs", "/admin/jobs", Icons.Material.Filled.Schedule, Roles.Admin,
            "The background job dashboard: retention, erasure, pauses and grant expiry sweeps.", ExternalPage: true),
    ];

    public static IEnumerable<PortalArea> For(System.Security.Claims.ClaimsPrincipal user) =>
        All.Where(area => user.IsInRole(area.Role));
}
