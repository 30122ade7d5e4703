using System.Globalization;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Data;
using GovernancePortal.Subjects;

namespace GovernancePortal.Audit;

/// <summary>
/// What narrows an auditor's search; a null or blank value does not filter. <see cref="Actor"/> is who acted,
/// exactly (an email address, <c>system</c>); <see cref="Subject"/> the person concerned, by portal id or email;
/// <see cref="From"/> is inclusive and <see cref="To"/> exclusive.
/// </summary>
public sealed record AuditQuery(
    string? Actor = null, string? Action = null, string? Program = null, string? Subject = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    public const int MaxFilterLength = 200;

    public static readonly AuditQuery None = new();

    public bool IsEmpty => this == None || (Blank(Actor) && Blank(Action) && Blank(Program) && Blank(Subject) && From is null && To is null);

    private static bool Blank(string? value) => string.IsNullOrWhiteSpace(value);
}

/// <summary>Where a page starts: the newest events, those older than a seq, or those newer than one.</summary>
public sealed record AuditPageAt(long? Before = null, long? After = null)
{
    public static readonly AuditPageAt Newest = new();
}

/// <summary>
/// A page of matching events, newest first. Paged by seq (keyset), not by offset and not counted, so each
/// page costs the same at event 10 as at event 10,000,000; <see cref="HasOlder"/> and <see cref="HasNewer"/>
/// say whether another page lies that way.
/// </summary>
public sealed record AuditSearchPage(IReadOnlyList<AuditEvent> Events, bool HasOlder, bool HasNewer, string? Notice = null)
{
    public const int MaxLimit = 500;

    public long? OldestSeq => Events.Count == 0 ? null : Events[^1].Seq;

    public long? NewestSeq => Events.Count == 0 ? null : Events[0].Seq;
}

/// <summary>
/// Read-only questions auditors ask of the log. The log holds personal data (who acted on whom), so a
/// search is itself audited: its event (the filters, how many rows) commits before any row is returned.
/// </summary>
public sealed class AuditSearch(ConnectionFactory connections, AuditLog audit)
{
    private const string Events = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events
        """;

    // One fixed condition per filter, each served by an index ending in seq (V14); values always travel as parameters.
    private const string ActorIs = "actor = @Actor";
    private const string ActionIs = "action = @Action";
    private const string ProgramIs = "program = @Program";
    private const string SubjectIs = "subject_id = @SubjectId";
    private const string FromTime = "occurred_at >= @From";
    private const string ToTime = "occurred_at < @To";
    private const string OlderThan = "seq < @Before";
    private const string NewerThan = "seq > @After";

    private const string NewestFirst = " ORDER BY seq DESC LIMIT @Take";
    private const string OldestFirst = " ORDER BY seq LIMIT @Take";

    private const string SubjectByEmail = "SELECT id FROM subjects WHERE email = @Email";

    public async Task<AuditSearchPage> SearchAsync(AuditQuery query, AuditPageAt at, int limit, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.Auditor, "Only auditors search the audit log.");
        limit = Math.Clamp(limit, 1, AuditSearchPage.MaxLimit);
        if (new[] { query.Actor, query.Action, query.Program, query.Subject }.Any(value => value?.Trim().Length > AuditQuery.MaxFilterLength))
            throw new RuleViolation($"Keep each filter under {AuditQuery.MaxFilterLength} characters.");
        if (query.From is { } from && query.To is { } to && to <= from)
            throw new RuleViolation("The end of the time range must come after its start.");
        if (at.Before is not null && at.After is not null)
            throw new RuleViolation("A page starts either before or after an event, not both.");

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var (subjectId, notice) = await SubjectAsync(scope, query.Subject);
        var conditions = new List<string>();
        if (!string.IsNullOrWhiteSpace(query.Actor))
            conditions.Add(ActorIs);
        if (!string.IsNullOrWhiteSpace(query.Action))
            conditions.Add(ActionIs);
        if (!string.IsNullOrWhiteSpace(query.Program))
            conditions.Add(ProgramIs);
        if (!string.IsNullOrWhiteSpace(query.Subject))
            conditions.Add(SubjectIs);
        if (query.From is not null)
            conditions.Add(FromTime);
        if (query.To is not null)
            conditions.Add(ToTime);
        if (at.Before is not null)
            conditions.Add(OlderThan);
        if (at.After is not null)
            conditions.Add(NewerThan);
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var parameters = new
        {
            Actor = ActorName(query.Actor),
            Action = query.Action?.Trim(),
            Program = query.Program?.Trim(),
            SubjectId = subjectId ?? 0,
            query.From,
            query.To,
            at.Before,
            at.After,
            Take = limit + 1,
        };

        var rows = notice is not null ? [] : (await scope.QueryAsync<AuditEvent>(Events + where + (at.After is null ? NewestFirst : OldestFirst), parameters)).ToList();
        var more = rows.Count > limit;
        var events = rows.Take(limit).ToList();
        if (at.After is not null)
            events.Reverse();
        var page = at.After is null
            ? new AuditSearchPage(events, HasOlder: more, HasNewer: at.Before is not null, notice)
            : new AuditSearchPage(events, HasOlder: true, HasNewer: more, notice);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.AuditSearched,
            Detail: Describe(query, at, page), RecordCount: events.Count));
        await scope.CommitAsync();
        return page;
    }

    /// <summary>The subject filter as an id: digits are an id, anything with an @ an email looked up among the portal's people.</summary>
    private static async Task<(long? Id, string? Notice)> SubjectAsync(WriteScope scope, string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject))
            return (null, null);
        var text = subject.Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            return (id, null);
        if (!text.Contains('@'))
            throw new RuleViolation("Name the subject by their portal id (a number) or their email address.");
        var found = await scope.QuerySingleOrDefaultAsync<long?>(SubjectByEmail, new { Email = SubjectDirectory.NormalizeEmail(text) });
        return found is { } known ? (known, null) : (null, $"Nobody in the portal has the email address {text}, so no event is about them.");
    }

    // Actors are stored as the sign-in's email, normalized to lowercase, or a tool's name (system, gp (user)).
    private static string? ActorName(string? actor) =>
        string.IsNullOrWhiteSpace(actor) ? null : actor.Contains('@') ? SubjectDirectory.NormalizeEmail(actor) : actor.Trim();

    private static string Describe(AuditQuery query, AuditPageAt at, AuditSearchPage page)
    {
        var filters = new List<string>();
        if (!string.IsNullOrWhiteSpace(query.Actor))
            filters.Add($"actor {ActorName(query.Actor)}");
        if (!string.IsNullOrWhiteSpace(query.Action))
            filters.Add($"action {query.Action.Trim()}");
        if (!string.IsNullOrWhiteSpace(query.Program))
            filters.Add($"program {query.Program.Trim()}");
        if (!string.IsNullOrWhiteSpace(query.Subject))
            filters.Add($"subject {query.Subject.Trim()}");
        if (query.From is { } from)
            filters.Add($"from {AuditChain.FormatTime(StoredTime.Normalize(from))}");
        if (query.To is { } to)
            filters.Add($"to {AuditChain.FormatTime(StoredTime.Normalize(to))}");
        var where = at.Before is { } before ? $" before seq {before}" : at.After is { } after ? $" after seq {after}" : "";
        var shown = page.Events.Count == 0 ? $"no rows{where}" : $"{page.Events.Count} rows, seq {page.NewestSeq}-{page.OldestSeq}";
        return filters.Count == 0 ? $"{shown}; no filter" : $"{shown}; {string.Join(", ", filters)}";
    }
}
