using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Data;
using GovernancePortal.Erasure;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Requests;

public static class RequestKind
{
    public const string Export = "export";
    public const string Erasure = "erasure";
    public const string Objection = "objection";
}

public static class RequestStatus
{
    public const string Received = "received";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Upheld = "upheld";
    public const string Rejected = "rejected";

    public static bool IsOpen(string status) => status is Received or InProgress;

    /// <summary>The open statuses as an SQL list, for <c>status IN {Open}</c>: the one place SQL names them.</summary>
    public const string OpenList = $"('{Received}', '{InProgress}')";
}

public sealed record DataRequest
{
    public long Id { get; init; }
    public string Reference { get; init; } = "";
    public long SubjectId { get; init; }
    public string? SubjectEmail { get; init; }
    public string Kind { get; init; } = "";
    public string? ProgramKey { get; init; }
    public string? CategoryKey { get; init; }
    public string Status { get; init; } = "";
    public DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset DueAt { get; init; }
    public DateTimeOffset? ExtendedDueAt { get; init; }
    public string? ExtensionReason { get; init; }
    public string? DecidedBy { get; init; }
    public string? DecisionReason { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? Receipt { get; init; }

    /// <summary>An export's progress while it is downloaded: records written so far, of how many.</summary>
    public long? ProgressDone { get; init; }
    public long? ProgressTotal { get; init; }
    public DateTimeOffset? ProgressAt { get; init; }

    /// <summary>When the last download stopped before its end (browser closed, connection dropped).</summary>
    public DateTimeOffset? ProgressStoppedAt { get; init; }

    /// <summary>How many legal holds in force keep part of this request's scope from erasure (the erasure sweep counts them when it meets them).</summary>
    public long HoldsInForce { get; init; }

    public bool OnHold => HoldsInForce > 0;

    /// <summary>The legal deadline in force: the extended one when an officer extended it.</summary>
    public DateTimeOffset EffectiveDueAt => ExtendedDueAt ?? DueAt;

    /// <summary>The flag the deadline sweep raised (<see cref="RequestDeadlines"/>), kept as it was raised.</summary>
    public string? DeadlineFlag { get; init; }
    public DateTimeOffset? DeadlineFlaggedAt { get; init; }

    /// <summary>The deadline in force when the flag was raised; after an extension the flag no longer applies.</summary>
    public DateTimeOffset? DeadlineFlaggedFor { get; init; }

    /// <summary>The flag in force: raised against the current deadline of an open request; otherwise null.</summary>
    public string? RaisedFlag => IsOpen && DeadlineFlaggedFor == EffectiveDueAt ? DeadlineFlag : null;

    public bool IsOpen => RequestStatus.IsOpen(Status);
}

/// <summary>What narrows the officers' queue; a null or blank value does not filter.</summary>
public sealed record RequestQueueFilter(string? Kind = null, bool OpenOnly = true, string? Search = null)
{
    public const int MaxSearchLength = 200;
}

/// <summary>A page of the queue and how many requests match in all.</summary>
public sealed record RequestQueueResult(IReadOnlyList<DataRequest> Requests, long Total, int Offset)
{
    public const int MaxLimit = 200;
}

/// <summary>
/// An officer asked to decide on, extend or approve their own request or objection: another officer
/// must. A refusal of its own kind, so pages and callers can tell it from a broken rule about the request.
/// </summary>
public sealed class OwnRequestRefused(string message) : Exception(message);

/// <summary>
/// Employees' requests (erasure, export, objection) and the privacy officers' queue. A request is due
/// one month from receipt (GDPR Art. 12(3)); an officer may extend it by up to two further months with
/// a reason the employee sees. Every decision is audited.
/// </summary>
public sealed class RequestDesk(ConnectionFactory connections, ProgramQueries programs, Revocations revocations, DataKeyStore keys, IErasureQueue erasure, AuditLog audit, TimeProvider time)
{
    public const int MaxReasonLength = 2_000;

    private const string Columns = """
        r.id AS Id, r.reference AS Reference, r.subject_id AS SubjectId, s.email AS SubjectEmail, r.kind AS Kind,
        p.key AS ProgramKey, c.key AS CategoryKey, r.status AS Status, r.received_at AS ReceivedAt, r.due_at AS DueAt,
        r.extended_due_at AS ExtendedDueAt, r.extension_reason AS ExtensionReason, r.decided_by AS DecidedBy,
        r.decision_reason AS DecisionReason, r.completed_at AS CompletedAt, r.receipt AS Receipt,
        r.progress_done AS ProgressDone, r.progress_total AS ProgressTotal, r.progress_at AS ProgressAt, r.progress_stopped_at AS ProgressStoppedAt,
        r.deadline_flag AS DeadlineFlag, r.deadline_flagged_at AS DeadlineFlaggedAt, r.deadline_flagged_for AS DeadlineFlaggedFor,
        (SELECT count(*) FROM erasure_holds eh JOIN legal_holds h ON h.id = eh.hold_id
         WHERE eh.request_id = r.id AND h.released_at IS NULL AND r.receipt IS NULL) AS HoldsInForce
        FROM requests r
        JOIN subjects s ON s.id = r.subject_id
        LEFT JOIN programs p ON p.id = r.program_id
        LEFT JOIN categories c ON c.id = r.category_id
        """;

    private const string Insert = $"""
        INSERT INTO requests (reference, subject_id, kind, program_id, category_id, status, received_at, due_at)
        VALUES (@Reference, @SubjectId, @Kind, @ProgramId, @CategoryId, '{RequestStatus.Received}', @Now, @DueAt)
        RETURNING id
        """;

    /// <summary>
    /// Files a request, or returns the open one of the same kind and scope: a double submission is one
    /// request with one effect. Call with the subject id from the sign-in, never from the client.
    /// </summary>
    public async Task<DataRequest> SubmitAsync(long subjectId, string kind, string? programKey, string? categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var request = await SubmitAsync(scope, subjectId, kind, programKey, categoryKey, actor);
        await scope.CommitAsync();
        if (kind == RequestKind.Erasure)
            erasure.SweepSoon();
        return request;
    }

    /// <summary>The same, inside the caller's scope (a withdrawal files its erasure or objection with the revocation).</summary>
    public async Task<DataRequest> SubmitAsync(WriteScope scope, long subjectId, string kind, string? programKey, string? categoryKey, Actor actor)
    {
        if (kind is not (RequestKind.Export or RequestKind.Erasure or RequestKind.Objection))
            throw new RuleViolation("A request is an export, an erasure or an objection.", "kind");
        // An erasure (or an objection, which may end in one) covers what was collected until it is filed:
        // the subject lock orders it against collection, and the scope's keys are sealed at its time.
        var erases = kind is RequestKind.Erasure or RequestKind.Objection;
        if (erases)
            await Revocations.LockSubjectAsync(scope, subjectId);
        long? programId = null, categoryId = null;
        if (programKey is not null)
        {
            var program = await programs.RequireAsync(scope, programKey);
            programId = program.Id;
            if (categoryKey is not null)
                categoryId = program.Categories.FirstOrDefault(c => c.Key == categoryKey)?.Id
                    ?? throw new NotFoundProblem($"The program has no category '{categoryKey}'.");
        }

        var open = (await scope.QueryAsync<DataRequest>(
            $"SELECT {Columns} WHERE r.subject_id = @SubjectId AND r.kind = @Kind AND r.status IN {RequestStatus.OpenList}",
            new { SubjectId = subjectId, Kind = kind }))
            .OrderByDescending(r => r.ReceivedAt)
            .FirstOrDefault(r => r.ProgramKey == programKey && r.CategoryKey == categoryKey);
        // The open request is the same request unless keys were made since (the person re-joined and was
        // collected again): what they hold is not in its scope, so a new request must cover it.
        if (open is not null && !(erases && await scope.ExecuteScalarAsync<long>(KeysSince,
                new { SubjectId = subjectId, ProgramId = programId, CategoryId = categoryId, Since = open.ReceivedAt }) > 0))
            return open;

        var now = StoredTime.Normalize(time.GetUtcNow());
        var reference = NewReference(kind);
        var id = await scope.ExecuteScalarAsync<long>(Insert, new
        {
            Reference = reference, SubjectId = subjectId, Kind = kind, ProgramId = programId, CategoryId = categoryId,
            Now = now, DueAt = now.AddMonths(1),
        });
        if (erases)
            await keys.SealAsync(scope, subjectId, programId, categoryId, now);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.RequestReceived(kind),
            SubjectId: subjectId, Program: programKey, Detail: $"{reference}{(categoryKey is null ? "" : ", category " + categoryKey)}"));
        return await scope.QuerySingleAsync<DataRequest>($"SELECT {Columns} WHERE r.id = @Id", new { Id = id });
    }

    private const string KeysSince = """
        SELECT count(*) FROM data_keys
        WHERE subject_id = @SubjectId AND (@ProgramId IS NULL OR program_id = @ProgramId) AND (@CategoryId IS NULL OR category_id = @CategoryId)
          AND created_at >= @Since
        """;

    public async Task<IReadOnlyList<DataRequest>> ForSubjectAsync(long subjectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<DataRequest>(new CommandDefinition($"SELECT {Columns} WHERE r.subject_id = @SubjectId ORDER BY r.received_at DESC, r.id DESC",
            new { SubjectId = subjectId }, cancellationToken: cancellationToken))).ToList();
    }

    /// <summary>One of the subject's own requests; another person's reference is simply not found.</summary>
    public async Task<DataRequest> GetForSubjectAsync(long subjectId, string reference, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<DataRequest>(new CommandDefinition($"SELECT {Columns} WHERE r.reference = @Reference AND r.subject_id = @SubjectId",
                   new { Reference = reference, SubjectId = subjectId }, cancellationToken: cancellationToken))
               ?? throw new NotFoundProblem("There is no such request among yours.");
    }

    /// <summary>
    /// One page of the officers' queue, ordered in SQL: open requests first, the earliest deadline in force
    /// first (so the most overdue lead), then closed ones, the newest first. Staff reading other people's
    /// requests is audited: the event (what was asked, how many rows) commits before any row is returned.
    /// The open-only default can start from <c>ix_requests_status_due (status, due_at)</c>; the deadline in
    /// force is an expression over two columns, so the matching requests are sorted, not read in index order.
    /// </summary>
    public async Task<RequestQueueResult> QueueAsync(RequestQueueFilter filter, int offset, int limit, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers work the request queue.");
        offset = Math.Max(0, offset);
        limit = Math.Clamp(limit, 1, RequestQueueResult.MaxLimit);
        if (filter.Search?.Trim().Length > RequestQueueFilter.MaxSearchLength)
            throw new RuleViolation($"Search for at most {RequestQueueFilter.MaxSearchLength} characters.", "search");
        var conditions = new List<string>();
        if (filter.OpenOnly)
            conditions.Add(QueueIsOpen);
        if (!string.IsNullOrWhiteSpace(filter.Kind))
            conditions.Add(QueueKindIs);
        if (!string.IsNullOrWhiteSpace(filter.Search))
            conditions.Add(QueueMatches);
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        var parameters = new
        {
            Kind = filter.Kind?.Trim(),
            Pattern = SqlDialect.ContainsPattern(filter.Search),
            Offset = offset,
            Limit = limit,
        };

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var total = await scope.ExecuteScalarAsync<long>(QueueCount + where, parameters);
        var rows = (await scope.QueryAsync<DataRequest>(
            $"SELECT {Columns} WHERE r.id IN ({QueuePage}{where}{QueueByUrgency}{QueueLimit}){QueueByUrgency}", parameters)).ToList();
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.RequestQueueViewed,
            Detail: DescribeQueueView(filter, offset, rows.Count, total), RecordCount: rows.Count));
        await scope.CommitAsync();
        return new RequestQueueResult(rows, total, offset);
    }

    private const string QueueCount = "SELECT count(*) FROM requests r";

    // The page's ids are chosen from requests alone, so the planner cannot start from the joined
    // tables and read every request; the page's rows are then fetched by primary key.
    private const string QueuePage = "SELECT r.id FROM requests r";

    private const string QueueIsOpen = $"r.status IN {RequestStatus.OpenList}";

    private const string QueueKindIs = "r.kind = @Kind";

    private const string QueueMatches = """
        (lower(r.reference) LIKE @Pattern ESCAPE '\'
         OR EXISTS (SELECT 1 FROM subjects m WHERE m.id = r.subject_id AND lower(m.email) LIKE @Pattern ESCAPE '\'))
        """;

    // The second key is null for every closed request, so where each engine sorts nulls does not matter.
    private const string QueueByUrgency = $"""

         ORDER BY CASE WHEN r.status IN {RequestStatus.OpenList} THEN 0 ELSE 1 END,
                  CASE WHEN r.status IN {RequestStatus.OpenList} THEN COALESCE(r.extended_due_at, r.due_at) END,
                  r.received_at DESC, r.id DESC
        """;

    private const string QueueLimit = " LIMIT @Limit OFFSET @Offset";

    /// <summary>
    /// One request, as an officer opens it to decide on it; the read is audited against the person it
    /// belongs to (they see it under "Who accessed my data") before the request is returned.
    /// </summary>
    public async Task<DataRequest> OpenAsync(string reference, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers open other people's requests.");
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var request = await scope.QuerySingleOrDefaultAsync<DataRequest>($"SELECT {Columns} WHERE r.reference = @Reference", new { Reference = reference })
            ?? throw new NotFoundProblem($"There is no request {reference}.");
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.RequestViewed,
            SubjectId: request.SubjectId, Program: request.ProgramKey, Detail: request.Reference, RecordCount: 1));
        await scope.CommitAsync();
        return request;
    }

    /// <summary>Extends an open request's deadline to at most three months after receipt, with a reason the employee sees.</summary>
    public async Task ExtendAsync(string reference, DateTimeOffset newDueAt, string reason, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers decide on requests.");
        var text = RuleViolation.RequireText(reason, "reason", "Give the reason for the extension; the employee sees it.", MaxReasonLength);
        await DecideAsync(reference, actor, async (scope, request) =>
        {
            if (!request.IsOpen)
                throw new RuleViolation("Only an open request can be extended.");
            var due = StoredTime.Normalize(newDueAt);
            if (due <= request.EffectiveDueAt)
                throw new RuleViolation("The new deadline must be later than the current one.", "dueAt");
            if (due > request.ReceivedAt.AddMonths(3))
                throw new RuleViolation($"A deadline can be extended by two months at most: until {request.ReceivedAt.AddMonths(3):d MMM yyyy}.", "dueAt");
            await scope.ExecuteAsync("UPDATE requests SET extended_due_at = @Due, extension_reason = @Reason WHERE id = @Id",
                new { request.Id, Due = due, Reason = text });
            return (AuditActions.RequestExtended, $"{reference} due {due:yyyy-MM-dd}: {text}");
        }, cancellationToken);
    }

    /// <summary>
    /// Decides an objection, with a reason the employee sees: upheld, collection of their data stays stopped;
    /// rejected (the company's grounds override theirs, GDPR Art. 21(1)), the objection ends and collection
    /// resumes from the commit — under the subject lock, like every change to what may be collected about them.
    /// </summary>
    public async Task DecideObjectionAsync(string reference, bool uphold, string reason, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers decide on requests.");
        var text = RuleViolation.RequireText(reason, "reason", "Give the reason for the decision; the employee sees it.", MaxReasonLength);
        await DecideAsync(reference, actor, async (scope, request) =>
        {
            if (request.Kind != RequestKind.Objection)
                throw new RuleViolation("Only objections are upheld or rejected.");
            if (!request.IsOpen)
                throw new RuleViolation("This objection was decided already.");
            if (!uphold)
                await revocations.EndObjectionAsync(scope, request.SubjectId, request.Id);
            await scope.ExecuteAsync("""
                UPDATE requests SET status = @Status, decided_by = @By, decision_reason = @Reason, completed_at = @Now WHERE id = @Id
                """, new { request.Id, Status = uphold ? RequestStatus.Upheld : RequestStatus.Rejected, By = actor.Name, Reason = text, Now = StoredTime.Normalize(time.GetUtcNow()) });
            return (uphold ? AuditActions.ObjectionUpheld : AuditActions.ObjectionRejected, $"{reference}: {text}");
        }, cancellationToken);
        if (uphold)
            erasure.SweepSoon();
    }

    private async Task DecideAsync(string reference, Actor actor,
        Func<WriteScope, DataRequest, Task<(string Action, string Detail)>> decide, CancellationToken cancellationToken)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var request = await scope.QuerySingleOrDefaultAsync<DataRequest>($"SELECT {Columns} WHERE r.reference = @Reference", new { Reference = reference })
            ?? throw new NotFoundProblem($"There is no request {reference}.");
        // By subject id, not email: an email can change, and an officer signs in as the employee they also are.
        if (actor.SubjectId is { } self && self == request.SubjectId)
            throw new OwnRequestRefused(request.Kind == RequestKind.Objection
                ? "This objection is your own: another privacy officer must decide it."
                : "This request is your own: another privacy officer must decide on it.");
        var (action, detail) = await decide(scope, request);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, action, SubjectId: request.SubjectId, Program: request.ProgramKey, Detail: detail));
        await scope.CommitAsync();
    }

    /// <summary>An export's download began: the request is in progress, with nothing of <paramref name="total"/> records written yet.</summary>
    public async Task ExportStartedAsync(long requestId, long total, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.ExecuteAsync(ExportStarted, new { Id = requestId, Total = total, Now = StoredTime.Normalize(time.GetUtcNow()) });
        await scope.CommitAsync();
    }

    private const string ExportStarted = $"""
        UPDATE requests
        SET status = CASE WHEN status = '{RequestStatus.Received}' THEN '{RequestStatus.InProgress}' ELSE status END,
            progress_done = 0, progress_total = @Total, progress_at = @Now, progress_stopped_at = NULL
        WHERE id = @Id
        """;

    /// <summary>How far an export's download has come, so its page shows it from any node.</summary>
    public async Task ExportProgressAsync(long requestId, long done, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.ExecuteAsync("UPDATE requests SET progress_done = @Done, progress_at = @Now WHERE id = @Id",
            new { Id = requestId, Done = done, Now = StoredTime.Normalize(time.GetUtcNow()) });
        await scope.CommitAsync();
    }

    /// <summary>Records that a download stopped early. The download's cancellation has fired by now, so this runs on its own.</summary>
    public async Task ExportStoppedAsync(long requestId, long done)
    {
        try
        {
            await using var scope = await connections.BeginWriteAsync(CancellationToken.None);
            await scope.ExecuteAsync("UPDATE requests SET progress_done = @Done, progress_at = @Now, progress_stopped_at = @Now WHERE id = @Id",
                new { Id = requestId, Done = done, Now = StoredTime.Normalize(time.GetUtcNow()) });
            await scope.CommitAsync();
        }
        catch (DbException)
        {
            // The database is what failed; the status page then shows the download as stalled.
        }
    }

    /// <summary>The first complete download completes the export request with its receipt; a later one only brings the progress up to date.</summary>
    public async Task ExportDeliveredAsync(DataRequest request, ExportReceipt receipt, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var now = StoredTime.Normalize(time.GetUtcNow());
        await scope.ExecuteAsync(ExportDelivered, new { request.Id, Now = now, Receipt = receipt.Describe(now) });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.ExportDelivered,
            SubjectId: request.SubjectId, RecordCount: receipt.Records, Detail: $"{request.Reference}: {receipt.Bytes} bytes, SHA-256 {receipt.Sha256}"));
        await scope.CommitAsync();
    }

    private const string ExportDelivered = $"""
        UPDATE requests
        SET progress_done = progress_total, progress_at = @Now,
            status = CASE WHEN status IN {RequestStatus.OpenList} THEN '{RequestStatus.Completed}' ELSE status END,
            completed_at = CASE WHEN status IN {RequestStatus.OpenList} THEN @Now ELSE completed_at END,
            receipt = CASE WHEN status IN {RequestStatus.OpenList} THEN @Receipt ELSE receipt END
        WHERE id = @Id
        """;

    private static string DescribeQueueView(RequestQueueFilter filter, int offset, int count, long total)
    {
        var shown = count == 0 ? $"no rows of {total}" : $"rows {offset + 1}-{offset + count} of {total}";
        var scope = filter.OpenOnly ? "open" : "all";
        var kind = string.IsNullOrWhiteSpace(filter.Kind) ? "" : $", kind {filter.Kind.Trim()}";
        var search = string.IsNullOrWhiteSpace(filter.Search) ? "" : $", search \"{filter.Search.Trim()}\"";
        return $"{shown}; {scope} requests{kind}{search}";
    }


    private static string NewReference(string kind)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var prefix = kind switch { RequestKind.Export => "EXP", RequestKind.Erasure => "ERA", _ => "OBJ" };
        return prefix + "-" + RandomNumberGenerator.GetString(alphabet, 4) + "-" + RandomNumberGenerator.GetString(alphabet, 4);
    }

}
