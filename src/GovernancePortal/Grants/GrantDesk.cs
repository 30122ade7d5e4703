using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Requests;

namespace GovernancePortal.Grants;

/// <summary>What a data consumer asks for: one program, some of its categories, why, and until when.</summary>
public sealed record GrantAsk(string ProgramKey, IReadOnlyCollection<string> CategoryKeys, string? Purpose, string? Justification, DateTimeOffset EndsAt);

/// <summary>Where a grant stands after a review: its status, and how many approvals it has of how many it needs.</summary>
public sealed record GrantReviewOutcome(string Status, int Approvals, int ApprovalsNeeded, bool Recorded);

/// <summary>
/// The life of a grant: a data consumer asks, privacy officers approve or deny it (never their own; two
/// different officers for a category of sensitivity <c>special</c>), an officer may end it early. Every
/// step is audited in its own transaction, and the grant's row and reviews stay as its history.
/// </summary>
public sealed class GrantDesk(ConnectionFactory connections, ProgramQueries programs, RoleRoster roster, AuditLog audit, GrantOptions options, TimeProvider time)
{
    public const int MinPurposeLength = 20;
    public const int MaxPurposeLength = 500;
    public const int MaxTextLength = 2_000;

    /// <summary>How far ahead an end must be at least, so that a grant is not over before anyone can review it.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromHours(1);

    private const string Insert = """
        INSERT INTO grants (principal_kind, principal, principal_subject_id, program_id, purpose, justification, requested_by, requested_at, approvals_needed, expires_at)
        VALUES ('user', @Principal, @PrincipalSubjectId, @ProgramId, @Purpose, @Justification, @Principal, @Now, @ApprovalsNeeded, @ExpiresAt)
        RETURNING id
        """;

    private const string InsertCategory = "INSERT INTO grant_categories (grant_id, category_id) VALUES (@GrantId, @CategoryId)";

    private const string GrantById = $"{GrantQueries.Columns} WHERE g.id = @Id";

    private const string InsertReview = """
        INSERT INTO grant_reviews (grant_id, officer, officer_subject_id, decision, note, decided_at)
        VALUES (@GrantId, @Officer, @OfficerSubjectId, @Decision, @Note, @Now)
        """;

    private const string MarkApproved = "UPDATE grants SET approved_by = @By, approved_at = @Now WHERE id = @Id AND approved_at IS NULL";

    private const string MarkDenied = "UPDATE grants SET denied_at = @Now WHERE id = @Id AND denied_at IS NULL";

    private const string MarkEnded = """
        UPDATE grants SET revoked_by = @By, revoked_by_subject_id = @BySubjectId, revoked_at = @Now, end_reason = @Reason
        WHERE id = @Id AND revoked_at IS NULL
        """;

    /// <summary>
    /// Files a data consumer's request for a grant, pending review. Refused at once when nobody could approve
    /// it: fewer privacy officers other than the requester than the approvals it needs.
    /// </summary>
    public async Task<long> AskAsync(GrantAsk ask, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.DataConsumer, "Only data consumers ask for grants.");
        var self = actor.SubjectId ?? throw new RuleViolation("Sign in as yourself to ask for a grant.");
        var purpose = RequirePurpose(ask.Purpose);
        var justification = RuleViolation.RequireText(ask.Justification, "justification",
            "Justify the request: why this purpose needs these records, and why fewer would not do.", MaxTextLength);
        if (ask.CategoryKeys.Count == 0)
            throw new RuleViolation("Choose at least one category.", "categories");

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, ask.ProgramKey);
        if (program.State == ProgramState.Retired)
            throw new RuleViolation("The program is retired; it has nothing to grant.", "program");
        var chosen = new List<DataCategory>();
        foreach (var key in ask.CategoryKeys.Distinct(StringComparer.Ordinal))
            chosen.Add(program.Categories.FirstOrDefault(c => c.Key == key && c.RetiredAt is null)
                ?? throw new RuleViolation($"The program has no category '{key}'.", "categories"));

        var now = StoredTime.Normalize(time.GetUtcNow());
        var endsAt = StoredTime.Normalize(ask.EndsAt.ToUniversalTime());
        if (endsAt < now + MinDuration)
            throw new RuleViolation("The end must be in the future, at least an hour from now.", "endsAt");
        if (endsAt > now.AddDays(options.MaxDays))
            throw new RuleViolation($"A grant may last at most {options.MaxDays} days; ask again when it ends.", "endsAt");

        var needed = chosen.Any(c => c.Sensitivity == "special") ? 2 : 1;
        var officers = await roster.CountOthersAsync(scope, Roles.PrivacyOfficer, self);
        if (officers < needed)
            throw new RuleViolation(needed == 2
                ? "Nobody could approve this: a category of special sensitivity needs two privacy officers other than you, and the portal knows fewer."
                : "Nobody could approve this: there is no privacy officer other than you.");

        var id = await scope.ExecuteScalarAsync<long>(Insert, new
        {
            Principal = actor.Name, PrincipalSubjectId = self, ProgramId = program.Id, Purpose = purpose, Justification = justification,
            Now = now, ApprovalsNeeded = needed, ExpiresAt = endsAt,
        });
        foreach (var category in chosen)
            await scope.ExecuteAsync(InsertCategory, new { GrantId = id, CategoryId = category.Id });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.GrantRequested, Program: program.Key, Purpose: purpose,
            Detail: new RecordAccessDetail(chosen.Select(c => c.Key).ToList(), id).Write()));
        await scope.CommitAsync();
        return id;
    }

    /// <summary>
    /// Records an officer's approval or denial with a note the requester sees. Nobody reviews their own
    /// grant; the same officer's approval counts once, so a double submission is one effect and a second
    /// approval by the same officer leaves a two-officer grant pending.
    /// </summary>
    public async Task<GrantReviewOutcome> ReviewAsync(long grantId, bool approve, string? note, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers review grants.");
        var self = actor.SubjectId ?? throw new RuleViolation("Sign in as yourself to review a grant.");
        var text = RuleViolation.RequireText(note, "note",
            approve ? "Write a note for the requester: what the approval covers." : "Write a note for the requester: why it is denied.", MaxTextLength);

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var grant = await LockAsync(scope, grantId);
        // By subject id, not email: an email can change, and an officer may also be a data consumer.
        if (grant.PrincipalSubjectId == self)
            throw new OwnRequestRefused("This grant is your own: another privacy officer must review it.");
        var reviews = await GrantQueries.ReviewsAsync(scope, grantId);
        var approvals = reviews.Count(r => r.Decision == GrantDecision.Approve);
        var now = StoredTime.Normalize(time.GetUtcNow());
        if (reviews.FirstOrDefault(r => r.OfficerSubjectId == self) is { } mine)
        {
            if (mine.Decision == (approve ? GrantDecision.Approve : GrantDecision.Deny))
                return new GrantReviewOutcome(grant.StatusAt(now), approvals, grant.ApprovalsNeeded, Recorded: false);
            throw new RuleViolation("You reviewed this grant already; another privacy officer decides now.");
        }
        var status = grant.StatusAt(now);
        if (status != GrantStatus.Pending)
            throw new RuleViolation(status switch
            {
                GrantStatus.Active => "This grant is approved already.",
                GrantStatus.Denied => "This grant was denied.",
                GrantStatus.Revoked => "This grant was ended.",
                _ => "This grant's end has passed; the requester must ask again.",
            });

        await scope.ExecuteAsync(InsertReview, new
        {
            GrantId = grantId, Officer = actor.Name, OfficerSubjectId = self, Decision = approve ? GrantDecision.Approve : GrantDecision.Deny, Note = text, Now = now,
        });
        string action;
        if (!approve)
        {
            await scope.ExecuteAsync(MarkDenied, new { Id = grantId, Now = now });
            action = AuditActions.GrantDenied;
            status = GrantStatus.Denied;
        }
        else if (++approvals >= grant.ApprovalsNeeded)
        {
            await scope.ExecuteAsync(MarkApproved, new { Id = grantId, By = actor.Name, Now = now });
            action = AuditActions.GrantApproved;
            status = GrantStatus.Active;
        }
        else
            action = AuditActions.GrantApprovalRecorded;
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, action, Program: grant.ProgramKey, Purpose: grant.Purpose,
            Detail: $"{new RecordAccessDetail(grant.Categories, grantId).Write()}; approvals {approvals} of {grant.ApprovalsNeeded}: {text}"));
        await scope.CommitAsync();
        return new GrantReviewOutcome(status, approvals, grant.ApprovalsNeeded, Recorded: true);
    }

    /// <summary>
    /// Ends a grant before its end time (or withdraws a pending one). Reads under it stop at this commit on
    /// every node: a read holds a share lock on the grant's row, which this update waits for. Ending what
    /// is ended already changes nothing and returns false.
    /// </summary>
    public async Task<bool> EndAsync(long grantId, string? reason, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers end grants.");
        var text = RuleViolation.RequireText(reason, "reason", "Say why the grant ends early; the holder sees it.", MaxTextLength);

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var grant = await LockAsync(scope, grantId);
        var now = StoredTime.Normalize(time.GetUtcNow());
        var status = grant.StatusAt(now);
        if (status == GrantStatus.Revoked)
            return false;
        if (status is GrantStatus.Denied or GrantStatus.Expired)
            throw new RuleViolation(status == GrantStatus.Denied ? "This grant was denied; there is nothing to end." : "This grant has ended already.");
        await scope.ExecuteAsync(MarkEnded, new { Id = grantId, By = actor.Name, BySubjectId = actor.SubjectId, Now = now, Reason = text });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.GrantEnded, Program: grant.ProgramKey, Purpose: grant.Purpose,
            Detail: $"{new RecordAccessDetail(grant.Categories, grantId).Write()}: {text}"));
        await scope.CommitAsync();
        return true;
    }

    /// <summary>
    /// Locks the grant's row, then reads it. The lock orders the reviews and the end of one grant, and
    /// conflicts with the share lock every read under the grant takes.
    /// </summary>
    private static async Task<GrantSummary> LockAsync(WriteScope scope, long grantId)
    {
        await scope.GateAsync(Gate.Grant, GateMode.Exclusive, grantId);
        await scope.ExecuteAsync($"SELECT id FROM grants WHERE id = @Id {scope.Dialect.ForUpdate}", new { Id = grantId });
        return await scope.QuerySingleOrDefaultAsync<GrantSummary>(GrantById, new { Id = grantId })
            ?? throw new NotFoundProblem("There is no such grant.");
    }

    /// <summary>
    /// A purpose of substance: at least <see cref="MinPurposeLength"/> letters and digits, in at least three
    /// different words, and not one character repeated. "." or "test" is not a purpose.
    /// </summary>
    public static string RequirePurpose(string? purpose)
    {
        var text = RuleViolation.RequireText(purpose, "purpose", "State the purpose: what the records will be used for.", MaxPurposeLength);
        var substance = text.Count(char.IsLetterOrDigit);
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(word => word.Count(char.IsLetter) >= 2).Select(word => word.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Count();
        var distinct = text.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).Distinct().Count();
        if (substance < MinPurposeLength || words < 3 || distinct < 6)
            throw new RuleViolation($"Describe the purpose in words: at least {MinPurposeLength} letters, what the records will be used for and why.", "purpose");
        return text;
    }
}
