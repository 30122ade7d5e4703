using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
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

    /// <summary>The legal deadline in force: the extended one when an officer extended it.</summary>
    public DateTimeOffset EffectiveDueAt => ExtendedDueAt ?? DueAt;

    public bool IsOpen => RequestStatus.IsOpen(Status);
}

/// <summary>
/// Employees' requests (erasure, export, objection) and the privacy officers' queue. A request is due
/// one month from receipt (GDPR Art. 12(3)); an officer may extend it by up to two further months with
/// a reason the employee sees. Every decision is audited.
/// </summary>
public sealed class RequestDesk(ConnectionFactory connections, AuditLog audit, TimeProvider time)
{
    public const int MaxReasonLength = 2_000;

    private const string Columns = """
        r.id AS Id, r.reference AS Reference, r.subject_id AS SubjectId, s.email AS SubjectEmail, r.kind AS Kind,
        p.key AS ProgramKey, c.key AS CategoryKey, r.status AS Status, r.received_at AS ReceivedAt, r.due_at AS DueAt,
        r.extended_due_at AS ExtendedDueAt, r.extension_reason AS ExtensionReason, r.decided_by AS DecidedBy,
        r.decision_reason AS DecisionReason, r.completed_at AS CompletedAt, r.receipt AS Receipt,
        r.progress_done AS ProgressDone, r.progress_total AS ProgressTotal, r.progress_at AS ProgressAt, r.progress_stopped_at AS ProgressStoppedAt
        FROM requests r
        JOIN subjects s ON s.id = r.subject_id
        LEFT JOIN programs p ON p.id = r.program_id
        LEFT JOIN categories c ON c.id = r.category_id
        """;

    private const string Insert = """
        INSERT INTO requests (reference, subject_id, kind, program_id, category_id, status, received_at, due_at)
        VALUES (@Reference, @SubjectId, @Kind, @ProgramId, @CategoryId, 'received', @Now, @DueAt)
        RETURNING id
        """;

    /// <summary>
    /// Files a request, or returns the open one of the same kind and scope: a double submission is one
    /// request with one effect. Call with the subject id from the sign-in, never from the client.
    /// </summary>
    public async Task<DataRequest> SubmitAsync(long subjectId, string kind, string? programKey, string? categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection, cancellationToken);
        var request = await SubmitAsync(connection, transaction, subjectId, kind, programKey, categoryKey, actor);
        await transaction.CommitAsync(cancellationToken);
        return request;
    }

    /// <summary>The same, inside the caller's transaction (a revocation files its erasure or objection with it).</summary>
    public async Task<DataRequest> SubmitAsync(DbConnection connection, DbTransaction transaction, long subjectId, string kind, string? programKey, string? categoryKey, Actor actor)
    {
        if (kind is not (RequestKind.Export or RequestKind.Erasure or RequestKind.Objection))
            throw new RuleViolation("A request is an export, an erasure or an objection.", "kind");
        long? programId = null, categoryId = null;
        if (programKey is not null)
        {
            programId = await connection.ExecuteScalarAsync<long?>("SELECT id FROM programs WHERE key = @Key", new { Key = programKey }, transaction)
                ?? throw new NotFound($"There is no program '{programKey}'.");
            if (categoryKey is not null)
                categoryId = await connection.ExecuteScalarAsync<long?>("SELECT id FROM categories WHERE program_id = @ProgramId AND key = @Key",
                    new { ProgramId = programId, Key = categoryKey }, transaction)
                    ?? throw new NotFound($"The program has no category '{categoryKey}'.");
        }

        var open = (await connection.QueryAsync<DataRequest>(
            $"SELECT {Columns} WHERE r.subject_id = @SubjectId AND r.kind = @Kind AND r.status IN ('received', 'in_progress')",
            new { SubjectId = subjectId, Kind = kind }, transaction))
            .FirstOrDefault(r => r.ProgramKey == programKey && r.CategoryKey == categoryKey);
        if (open is not null)
            return open;

        var now = StoredTime.Normalize(time.GetUtcNow());
        var reference = NewReference(kind);
        var id = await connection.ExecuteScalarAsync<long>(Insert, new
        {
            Reference = reference, SubjectId = subjectId, Kind = kind, ProgramId = programId, CategoryId = categoryId,
            Now = now, DueAt = now.AddMonths(1),
        }, transaction);
        await audit.AppendAsync(connection, transaction, new AuditEntry(actor.Name, actor.Roles, $"request.{kind}.received",
            SubjectId: subjectId, Program: programKey, Detail: $"{reference}{(categoryKey is null ? "" : ", category " + categoryKey)}"));
        return await connection.QuerySingleAsync<DataRequest>($"SELECT {Columns} WHERE r.id = @Id", new { Id = id }, transaction);
    }

    public async Task<IReadOnlyList<DataRequest>> ForSubjectAsync(long subjectId, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<DataRequest>($"SELECT {Columns} WHERE r.subject_id = @SubjectId ORDER BY r.received_at DESC, r.id DESC",
            new { SubjectId = subjectId })).ToList();
    }

    /// <summary>One of the subject's own requests; another person's reference is simply not found.</summary>
    public async Task<DataRequest> GetForSubjectAsync(long subjectId, string reference, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<DataRequest>($"SELECT {Columns} WHERE r.reference = @Reference AND r.subject_id = @SubjectId",
                   new { Reference = reference, SubjectId = subjectId })
               ?? throw new NotFound("There is no such request among yours.");
    }

    /// <summary>The officers' queue: every request, open ones first, the most urgent first.</summary>
    public async Task<IReadOnlyList<DataRequest>> QueueAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var all = await connection.QueryAsync<DataRequest>($"SELECT {Columns} ORDER BY r.received_at DESC LIMIT 5000");
        return all.OrderBy(r => r.IsOpen ? 0 : 1).ThenBy(r => r.IsOpen ? r.EffectiveDueAt : DateTimeOffset.MaxValue).ThenByDescending(r => r.ReceivedAt).ToList();
    }

    /// <summary>Extends an open request's deadline to at most three months after receipt, with a reason the employee sees.</summary>
    public async Task ExtendAsync(string reference, DateTimeOffset newDueAt, string reason, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers decide on requests.");
        var text = RequireText(reason, "reason", "Give the reason for the extension; the employee sees it.");
        await DecideAsync(reference, actor, async (connection, transaction, request) =>
        {
            if (!request.IsOpen)
                throw new RuleViolation("Only an open request can be extended.");
            var due = StoredTime.Normalize(newDueAt);
            if (due <= request.EffectiveDueAt)
                throw new RuleViolation("The new deadline must be later than the current one.", "dueAt");
            if (due > request.ReceivedAt.AddMonths(3))
                throw new RuleViolation($"A deadline can be extended by two months at most: until {request.ReceivedAt.AddMonths(3):d MMM yyyy}.", "dueAt");
            await connection.ExecuteAsync("UPDATE requests SET extended_due_at = @Due, extension_reason = @Reason WHERE id = @Id",
                new { request.Id, Due = due, Reason = text }, transaction);
            return ("request.extended", $"{reference} due {due:yyyy-MM-dd}: {text}");
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
        var text = RequireText(reason, "reason", "Give the reason for the decision; the employee sees it.");
        await DecideAsync(reference, actor, async (connection, transaction, request) =>
        {
            if (request.Kind != RequestKind.Objection)
                throw new RuleViolation("Only objections are upheld or rejected.");
            if (!request.IsOpen)
                throw new RuleViolation("This objection was decided already.");
            if (!uphold)
                await Revocations.EndObjectionAsync(connection, transaction, request.SubjectId, request.Id, time.GetUtcNow());
            await connection.ExecuteAsync("""
                UPDATE requests SET status = @Status, decided_by = @By, decision_reason = @Reason, completed_at = @Now WHERE id = @Id
                """, new { request.Id, Status = uphold ? RequestStatus.Upheld : RequestStatus.Rejected, By = actor.Name, Reason = text, Now = StoredTime.Normalize(time.GetUtcNow()) }, transaction);
            return (uphold ? "objection.upheld" : "objection.rejected", $"{reference}: {text}");
        }, cancellationToken);
    }

    private async Task DecideAsync(string reference, Actor actor,
        Func<DbConnection, DbTransaction, DataRequest, Task<(string Action, string Detail)>> decide, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await ConnectionFactory.BeginWriteAsync(connection, cancellationToken);
        var request = await connection.QuerySingleOrDefaultAsync<DataRequest>($"SELECT {Columns} WHERE r.reference = @Reference", new { Reference = reference }, transaction)
            ?? throw new NotFound($"There is no request {reference}.");
        var (action, detail) = await decide(connection, transaction, request);
        await audit.AppendAsync(connection, transaction, new AuditEntry(actor.Name, actor.Roles, action, SubjectId: request.SubjectId, Program: request.ProgramKey, Detail: detail));
        await transaction.CommitAsync(cancellationToken);
    }

    private static string NewReference(string kind)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var prefix = kind switch { RequestKind.Export => "EXP", RequestKind.Erasure => "ERA", _ => "OBJ" };
        return prefix + "-" + RandomNumberGenerator.GetString(alphabet, 4) + "-" + RandomNumberGenerator.GetString(alphabet, 4);
    }

    private static string RequireText(string? value, string field, string message)
    {
        var text = (value ?? "").Trim();
        if (text.Length == 0)
            throw new RuleViolation(message, field);
        if (text.Length > MaxReasonLength)
            throw new RuleViolation($"Keep it under {MaxReasonLength} characters.", field);
        return text;
    }
}
