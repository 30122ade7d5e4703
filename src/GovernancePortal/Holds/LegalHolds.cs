using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Erasure;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Holds;

/// <summary>A legal hold: what it covers (a person, a program, or a person in a program), why, and for the employee, what they are told.</summary>
public sealed record LegalHold
{
    public long Id { get; init; }
    public long? SubjectId { get; init; }
    public string? SubjectEmail { get; init; }
    public string? ProgramKey { get; init; }
    public string? ProgramName { get; init; }
    public string Reason { get; init; } = "";
    public string CaseReference { get; init; } = "";
    public string ResponsibleOfficer { get; init; } = "";
    public DateTimeOffset? ReviewOn { get; init; }
    public string Notice { get; init; } = "";
    public string PlacedBy { get; init; } = "";
    public DateTimeOffset PlacedAt { get; init; }
    public string? ReleasedBy { get; init; }
    public DateTimeOffset? ReleasedAt { get; init; }
    public string? ReleaseNote { get; init; }

    public bool Active => ReleasedAt is null;

    /// <summary>What the hold covers, in words.</summary>
    public string Scope => (SubjectEmail, ProgramName ?? ProgramKey) switch
    {
        ({ } person, { } program) => $"{person} in {program}",
        ({ } person, null) => $"{person}, in every program",
        (null, { } program) => $"everyone in {program}",
        _ => "nothing",
    };
}

/// <summary>What an officer fills in to place a hold. At least one of <see cref="SubjectEmail"/> and <see cref="ProgramKey"/>.</summary>
public sealed record HoldPlacement(
    string? SubjectEmail, string? ProgramKey, string Reason, string CaseReference, string ResponsibleOfficer, DateOnly? ReviewOn, string Notice);

/// <summary>A hold whose review date is near: <see cref="DaysLeft"/> 30, 7 or 1 days or fewer (negative once it is past).</summary>
public sealed record HoldReview(LegalHold Hold, int DaysLeft)
{
    /// <summary>The reminder it falls under: 30, 7 or 1 days before the review date (1 also on the day itself), or 0 once the date has passed.</summary>
    public int Reminder => DaysLeft < 0 ? 0 : DaysLeft <= 1 ? 1 : DaysLeft <= 7 ? 7 : 30;
}

/// <summary>
/// Legal holds (docs/erasure.md, "Legal holds"). A privacy officer places one for a person, a program, or a
/// person in a program; it keeps what it covers from retention and erasure until it is released. Placing and
/// releasing take the legal-hold lock, which every erasure and retention batch takes too, so a hold holds
/// from its commit on every node. Every change is audited; the internal reason and case stay off the
/// employee's side: they see the notice.
/// </summary>
public sealed class LegalHolds(ConnectionFactory connections, ProgramQueries programs, IErasureQueue erasure, AuditLog audit, TimeProvider time)
{
    public const int MaxTextLength = 2_000;
    public const int MaxShortLength = 200;

    private const string Columns = """
        SELECT h.id AS Id, h.subject_id AS SubjectId, s.email AS SubjectEmail, p.key AS ProgramKey, p.name AS ProgramName,
               h.reason AS Reason, h.case_reference AS CaseReference, h.responsible_officer AS ResponsibleOfficer, h.review_on AS ReviewOn,
               h.notice AS Notice, h.placed_by AS PlacedBy, h.placed_at AS PlacedAt, h.released_by AS ReleasedBy, h.released_at AS ReleasedAt,
               h.release_note AS ReleaseNote
        FROM legal_holds h
        LEFT JOIN subjects s ON s.id = h.subject_id
        LEFT JOIN programs p ON p.id = h.program_id
        """;

    private const string Insert = """
        INSERT INTO legal_holds (subject_id, program_id, reason, case_reference, responsible_officer, review_on, notice, placed_by, placed_at)
        VALUES (@SubjectId, @ProgramId, @Reason, @CaseReference, @ResponsibleOfficer, @ReviewOn, @Notice, @PlacedBy, @Now)
        RETURNING id
        """;

    private const string Release = """
        UPDATE legal_holds SET released_by = @By, released_at = @Now, release_note = @Note WHERE id = @Id AND released_at IS NULL
        """;

    /// <summary>
    /// Active holds first (the nearest review first), then released ones, newest first. The holds name people, so
    /// the view is audited (what was listed, how many) before the rows are returned.
    /// </summary>
    public async Task<IReadOnlyList<LegalHold>> ListAsync(Actor actor, bool activeOnly, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers see legal holds.");
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var rows = await scope.QueryAsync<LegalHold>(
            $"{Columns}{(activeOnly ? " WHERE h.released_at IS NULL" : "")} ORDER BY CASE WHEN h.released_at IS NULL THEN 0 ELSE 1 END, h.review_on, h.placed_at DESC, h.id DESC");
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.HoldsViewed,
            Detail: $"{rows.Count} {(activeOnly ? "active" : "active and released")} holds", RecordCount: rows.Count));
        await scope.CommitAsync();
        return rows;
    }

    /// <summary>Places a hold; from its commit nothing it covers is erased or purged.</summary>
    public async Task<LegalHold> PlaceAsync(HoldPlacement placement, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers place legal holds.");
        var reason = RuleViolation.RequireText(placement.Reason, "reason", "Give the internal reason for the hold.", MaxTextLength);
        var caseReference = RuleViolation.RequireText(placement.CaseReference, "caseReference", "Give the case reference.", MaxShortLength);
        var officer = RuleViolation.RequireText(placement.ResponsibleOfficer, "responsibleOfficer", "Name the officer responsible for the hold.", MaxShortLength);
        var notice = RuleViolation.RequireText(placement.Notice, "notice", "Write the notice the employee reads about the hold.", MaxTextLength);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (placement.ReviewOn is not { } reviewOn)
            throw new RuleViolation("Give the date by which the hold is reviewed.", "reviewOn");
        if (reviewOn <= today)
            throw new RuleViolation("The review date must be after today.", "reviewOn");
        if (reviewOn > today.AddYears(2))
            throw new RuleViolation("Review a hold at least every two years: choose a date before " + today.AddYears(2).ToString("d MMM yyyy") + ".", "reviewOn");
        var email = string.IsNullOrWhiteSpace(placement.SubjectEmail) ? null : SubjectDirectory.NormalizeEmail(placement.SubjectEmail);
        var programKey = string.IsNullOrWhiteSpace(placement.ProgramKey) ? null : placement.ProgramKey.Trim();
        if (email is null && programKey is null)
            throw new RuleViolation("Name the person, the program, or both, that the hold covers.", "subjectEmail");

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.LegalHolds);
        long? subjectId = null;
        if (email is not null)
        {
            subjectId = await scope.ExecuteScalarAsync<long?>("SELECT id FROM subjects WHERE email = @Email", new { Email = email })
                ?? throw new RuleViolation($"Nobody with the email {email} is known to the portal.", "subjectEmail");
            await Revocations.LockSubjectAsync(scope, subjectId.Value);
        }
        var program = programKey is null ? null : await programs.RequireAsync(scope, programKey);
        var now = StoredTime.Normalize(time.GetUtcNow());
        var id = await scope.ExecuteScalarAsync<long>(Insert, new
        {
            SubjectId = subjectId, ProgramId = program?.Id, Reason = reason, CaseReference = caseReference, ResponsibleOfficer = officer,
            ReviewOn = new DateTimeOffset(reviewOn.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), Notice = notice, PlacedBy = actor.Name, Now = now,
        });
        // The reason and the case are internal: the event names the hold, its review and who answers for it.
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.HoldPlaced, SubjectId: subjectId, Program: program?.Key,
            Detail: $"hold {id}; review by {reviewOn:yyyy-MM-dd}; responsible {officer}"));
        var hold = await scope.QuerySingleAsync<LegalHold>($"{Columns} WHERE h.id = @Id", new { Id = id });
        await scope.CommitAsync();
        return hold;
    }

    /// <summary>Releases an active hold with a note; what it kept is erased or purged by the next sweeps.</summary>
    public async Task<LegalHold> ReleaseAsync(long id, string note, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers release legal holds.");
        var text = RuleViolation.RequireText(note, "note", "Say why the hold is released.", MaxTextLength);
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.Dialect.LockAsync(scope.Connection, scope.Transaction, LockName.LegalHolds);
        var hold = await scope.QuerySingleOrDefaultAsync<LegalHold>($"{Columns} WHERE h.id = @Id", new { Id = id })
                   ?? throw new NotFoundProblem($"There is no legal hold {id}.");
        if (!hold.Active)
            throw new RuleViolation("This hold was released already.");
        await scope.ExecuteAsync(Release, new { Id = id, By = actor.Name, Now = StoredTime.Normalize(time.GetUtcNow()), Note = text });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.HoldReleased, SubjectId: hold.SubjectId, Program: hold.ProgramKey,
            Detail: $"hold {id} released"));
        var released = await scope.QuerySingleAsync<LegalHold>($"{Columns} WHERE h.id = @Id", new { Id = id });
        await scope.CommitAsync();
        // What the hold kept back from erasure requests is erased now, and their receipts written.
        erasure.SweepSoon();
        return released;
    }

    /// <summary>
    /// Active holds whose review date is at most 30 days away (or already past), nearest first: the officers'
    /// home reminds them 30, 7 and 1 days before (<see cref="HoldReview.Reminder"/>).
    /// </summary>
    public async Task<IReadOnlyList<HoldReview>> DueForReviewAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers see legal holds.");
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var until = new DateTimeOffset(today.AddDays(30).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<LegalHold>(new CommandDefinition(
            $"{Columns} WHERE h.released_at IS NULL AND h.review_on <= @Until ORDER BY h.review_on, h.id", new { Until = until }, cancellationToken: cancellationToken));
        return rows.Select(hold => new HoldReview(hold, DateOnly.FromDateTime(hold.ReviewOn!.Value.UtcDateTime).DayNumber - today.DayNumber)).ToList();
    }

    private const string ForRequest = """
        SELECT h.notice FROM erasure_holds e JOIN legal_holds h ON h.id = e.hold_id JOIN requests r ON r.id = e.request_id
        WHERE r.reference = @Reference AND r.subject_id = @SubjectId AND r.receipt IS NULL AND h.released_at IS NULL
        ORDER BY h.id
        """;

    /// <summary>
    /// The notices of the active holds that keep part of one of the subject's own requests from erasure (empty when
    /// none does): what the employee's request page shows as "on hold".
    /// </summary>
    public async Task<IReadOnlyList<string>> NoticesForRequestAsync(long subjectId, string reference, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<string>(new CommandDefinition(ForRequest, new { Reference = reference, SubjectId = subjectId }, cancellationToken: cancellationToken))).AsList();
    }
}
