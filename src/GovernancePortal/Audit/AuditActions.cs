namespace GovernancePortal.Audit;

/// <summary>An audit action: its code in the log, and what it means in plain words for the person it is about.</summary>
public sealed record AuditAction(string Name, string Label);

/// <summary>
/// Every action the portal writes to the audit log (docs/audit-log.md), and its label. Writers use the
/// constants, pages the labels: a new kind of event is added here, once.
/// </summary>
public static class AuditActions
{
    public const string DemoSeeded = "demo.seeded";
    public const string ProgramRegistered = "program.registered";
    public const string ProgramUpdated = "program.updated";
    public const string ProgramRetired = "program.retired";
    public const string ProgramPaused = "program.paused";
    public const string ProgramResumed = "program.resumed";
    public const string CategoryAdded = "category.added";
    public const string CategoryUpdated = "category.updated";
    public const string CategoryRetired = "category.retired";
    public const string CollectorCreated = "collector.created";
    public const string CollectorRevoked = "collector.revoked";
    public const string SubjectRevoked = "subject.revoked";
    public const string SubjectRejoined = "subject.rejoined";
    public const string ExportReceived = "request.export.received";
    public const string ErasureReceived = "request.erasure.received";
    public const string ObjectionReceived = "request.objection.received";
    public const string RequestExtended = "request.extended";
    public const string RequestCompleted = "request.completed";
    public const string ExportDelivered = "request.export.delivered";
    public const string RequestViewed = "request.viewed";
    public const string RequestQueueViewed = "request.queue.viewed";
    public const string ObjectionUpheld = "objection.upheld";
    public const string ObjectionRejected = "objection.rejected";
    public const string AuditSearched = "audit.searched";
    public const string AuditExported = "audit.exported";
    public const string AuditManifestSigned = "audit.manifest.signed";
    public const string RecordsRead = "records.read";
    public const string RecordsExported = "records.exported";
    public const string RecordsErased = "records.erased";
    public const string RecordsPurged = "records.purged";
    public const string HoldPlaced = "hold.placed";
    public const string HoldReleased = "hold.released";
    public const string HoldsViewed = "holds.viewed";
    public const string GrantRequested = "grant.requested";
    public const string GrantApprovalRecorded = "grant.approval.recorded";
    public const string GrantApproved = "grant.approved";
    public const string GrantDenied = "grant.denied";
    public const string GrantEnded = "grant.ended";
    public const string SigningKeyCreated = "signing-key.created";
    public const string SignedIn = "session.signed-in";
    public const string SignedOut = "session.signed-out";
    public const string SignInRefused = "session.sign-in-refused";
    public const string AccessRefused = "access.refused";
    public const string GrantExpired = "grant.expired";

    public static readonly IReadOnlyList<AuditAction> All =
    [
        new(DemoSeeded, "Loaded the demo data"),
        new(ProgramRegistered, "Registered a program"),
        new(ProgramUpdated, "Changed a program"),
        new(ProgramRetired, "Retired a program"),
        new(ProgramPaused, "Paused a program"),
        new(ProgramResumed, "Resumed a program"),
        new(CategoryAdded, "Added a data category"),
        new(CategoryUpdated, "Changed a data category"),
        new(CategoryRetired, "Retired a data category"),
        new(CollectorCreated, "Created a collector"),
        new(CollectorRevoked, "Revoked a collector"),
        new(SubjectRevoked, "Stopped collection about you"),
        new(SubjectRejoined, "Restarted collection about you"),
        new(ExportReceived, "Received your export request"),
        new(ErasureReceived, "Received your erasure request"),
        new(ObjectionReceived, "Received your objection"),
        new(RequestExtended, "Extended the deadline of your request"),
        new(RequestCompleted, "Completed your request"),
        new(ExportDelivered, "Delivered your copy of your data"),
        new(RequestViewed, "Opened your request"),
        new(RequestQueueViewed, "Viewed the request queue"),
        new(ObjectionUpheld, "Upheld your objection"),
        new(ObjectionRejected, "Rejected your objection"),
        new(AuditSearched, "Searched the audit log"),
        new(AuditExported, "Exported part of the audit log"),
        new(AuditManifestSigned, "Had an audit export's manifest signed"),
        new(RecordsRead, "Read your records"),
        new(RecordsExported, "Exported your records"),
        new(RecordsErased, "Erased your records"),
        new(RecordsPurged, "Deleted your records at the end of their retention"),
        new(HoldPlaced, "Placed a legal hold on your data"),
        new(HoldReleased, "Released a legal hold on your data"),
        new(HoldsViewed, "Viewed the legal holds"),
        new(GrantRequested, "Asked for a grant to read records"),
        new(GrantApprovalRecorded, "Gave the first of two approvals of a grant"),
        new(GrantApproved, "Approved a grant to read records"),
        new(GrantDenied, "Denied a grant to read records"),
        new(GrantEnded, "Ended a grant to read records"),
        new(SigningKeyCreated, "Created the portal's signing key"),
        new(SignedIn, "Signed in"),
        new(SignedOut, "Signed out"),
        new(SignInRefused, "A sign-in was refused"),
        new(AccessRefused, "Was refused a page or an API by their roles"),
        new(GrantExpired, "Marked a grant to read records ended at its end time"),
    ];

    private static readonly IReadOnlyDictionary<string, AuditAction> ByName = All.ToDictionary(action => action.Name, StringComparer.Ordinal);

    /// <summary>The action filed when a request of <paramref name="kind"/> arrives.</summary>
    public static string RequestReceived(string kind) => $"request.{kind}.received";

    /// <summary>The action in plain words; an unknown code is shown as it is, never hidden.</summary>
    public static string Label(string action) => ByName.TryGetValue(action, out var known) ? known.Label : action;
}
