namespace GovernancePortal.Audit;

/// <summary>What an audited action says about itself; the log adds seq, time and the hash chain.</summary>
public sealed record AuditEntry(
    string Actor,
    IReadOnlyCollection<string> ActorRoles,
    string Action,
    long? SubjectId = null,
    string? Program = null,
    string? Purpose = null,
    string? Detail = null,
    long? RecordCount = null);

/// <summary>One stored event of the append-only log (docs/audit-log.md).</summary>
public sealed record AuditEvent
{
    public long Seq { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public string Actor { get; init; } = "";
    public string ActorRoles { get; init; } = "";
    public string Action { get; init; } = "";
    public long? SubjectId { get; init; }
    public string? Program { get; init; }
    public string? Purpose { get; init; }
    public string? Detail { get; init; }
    public long? RecordCount { get; init; }
    public string PrevHash { get; init; } = "";
    public string Hash { get; init; } = "";
}
