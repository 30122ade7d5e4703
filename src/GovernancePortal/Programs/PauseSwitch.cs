using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Programs;

public sealed record Pause
{
    public long Id { get; init; }
    public long ProgramId { get; init; }
    public string PausedBy { get; init; } = "";

    /// <summary>The officer's subject; null for a tool (gp) or a pause recorded before subjects were kept.</summary>
    public long? PausedBySubjectId { get; init; }
    public DateTimeOffset PausedAt { get; init; }
    public string Reason { get; init; } = "";
    public string? ResumedBy { get; init; }
    public DateTimeOffset? ResumedAt { get; init; }
    public string? Resolution { get; init; }

    /// <summary>The categories paused; empty when the whole program is.</summary>
    public IReadOnlyList<string> CategoryKeys { get; init; } = [];

    public bool IsActive => ResumedAt is null;
    public bool IsWholeProgram => CategoryKeys.Count == 0;

    /// <summary>
    /// Whether <paramref name="actor"/> is the officer who paused: the same subject when both are known,
    /// since an email can change or pass to someone else; only when either side has no subject (a tool)
    /// do the names decide.
    /// </summary>
    public bool WasPausedBy(Actor actor) =>
        PausedBySubjectId is { } pauser && actor.SubjectId is { } resumer
            ? pauser == resumer
            : string.Equals(PausedBy, actor.Name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Pause switches. A pause takes effect at its commit on every node, because collection checks the
/// program row under a lock that conflicts with the update made here. Resuming needs a second
/// privacy officer: the one who paused cannot resume alone.
/// </summary>
public sealed class PauseSwitch(ConnectionFactory connections, ProgramQueries programs, AuditLog audit, TimeProvider time)
{
    public const int MaxTextLength = 2_000;

    private const string Columns = """
        id AS Id, program_id AS ProgramId, paused_by AS PausedBy, paused_by_subject_id AS PausedBySubjectId, paused_at AS PausedAt, reason AS Reason,
        resumed_by AS ResumedBy, resumed_at AS ResumedAt, resolution AS Resolution
        """;

    private const string History = $"SELECT {Columns} FROM pauses WHERE program_id = @ProgramId ORDER BY paused_at DESC, id DESC";

    private const string PauseCategories = """
        SELECT pc.pause_id AS PauseId, c.id AS CategoryId, c.key AS CategoryKey
        FROM pause_categories pc JOIN categories c ON c.id = pc.category_id JOIN pauses p ON p.id = pc.pause_id
        WHERE p.program_id = @ProgramId
        """;

    private const string InsertPause = """
        INSERT INTO pauses (program_id, paused_by, paused_by_subject_id, paused_at, reason)
        VALUES (@ProgramId, @PausedBy, @PausedBySubjectId, @PausedAt, @Reason) RETURNING id
        """;

    private const string MarkResumed = """
        UPDATE pauses SET resumed_by = @By, resumed_by_subject_id = @BySubjectId, resumed_at = @Now, resolution = @Resolution
        WHERE id = @Id AND resumed_at IS NULL
        """;

    private const string Touch = "UPDATE programs SET state = @State, updated_at = @Now WHERE id = @Id";

    /// <summary>Pauses the whole program (no categories given) or the chosen categories. Effective at the commit.</summary>
    public async Task<Pause> PauseAsync(string programKey, IReadOnlyCollection<string> categoryKeys, string reason, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers pause and resume programs.");
        var text = RuleViolation.RequireText(reason, "reason", "Say why the program is paused; the reason is shown to everyone who looks at it.", MaxTextLength);

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, programKey, RowLock.Update);
        if (program.State == ProgramState.Retired)
            throw new RuleViolation("The program is retired; there is nothing to pause.");
        var categories = program.Categories;

        var chosen = new List<DataCategory>();
        foreach (var key in categoryKeys.Distinct(StringComparer.Ordinal))
        {
            var category = categories.FirstOrDefault(c => c.Key == key && c.RetiredAt is null)
                ?? throw new RuleViolation($"The program has no category '{key}'.", "categories");
            chosen.Add(category);
        }
        if (chosen.Count == 0 && program.State == ProgramState.Paused)
            throw new RuleViolation("The whole program is already paused.");
        if (chosen.Count > 0 && chosen.All(c => c.Paused))
            throw new RuleViolation("Every chosen category is already paused.", "categories");

        // The time is taken after the row lock: every record accepted before this pause has an earlier received time.
        var now = StoredTime.Normalize(time.GetUtcNow());
        await scope.ExecuteAsync(Touch, new { program.Id, State = chosen.Count == 0 ? ProgramState.Paused : program.State, Now = now });
        if (chosen.Count > 0)
            await scope.ExecuteAsync($"UPDATE categories SET paused = @Paused WHERE id {scope.Dialect.AnyOf("@Ids")}",
                new { Paused = true, Ids = scope.Dialect.List(chosen.Select(c => c.Id)) });
        var pauseId = await scope.ExecuteScalarAsync<long>(InsertPause, new
        {
            ProgramId = program.Id, PausedBy = actor.Name, PausedBySubjectId = actor.SubjectId, PausedAt = now, Reason = text,
        });
        foreach (var category in chosen)
            await scope.ExecuteAsync("INSERT INTO pause_categories (pause_id, category_id) VALUES (@PauseId, @CategoryId)",
                new { PauseId = pauseId, CategoryId = category.Id });

        var paused = chosen.Count == 0 ? "whole program" : "categories " + string.Join(", ", chosen.Select(c => c.Key));
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.ProgramPaused,
            Program: program.Key, Detail: $"pause {pauseId}, {paused}: {text}"));
        await scope.CommitAsync();
        return new Pause
        {
            Id = pauseId, ProgramId = program.Id, PausedBy = actor.Name, PausedBySubjectId = actor.SubjectId, PausedAt = now, Reason = text,
            CategoryKeys = chosen.Select(c => c.Key).ToList(),
        };
    }

    /// <summary>Resumes one active pause with a resolution note. The officer who paused cannot resume it.</summary>
    public async Task ResumeAsync(string programKey, long pauseId, string resolution, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, "Only privacy officers pause and resume programs.");
        var text = RuleViolation.RequireText(resolution, "resolution", "Write the resolution: what was found and why collection may go on.", MaxTextLength);

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, programKey, RowLock.Update);
        var pauses = await LoadAsync(scope.Connection, scope.Transaction, program.Id, cancellationToken);
        var pause = pauses.FirstOrDefault(p => p.Id == pauseId) ?? throw new NotFoundProblem("There is no such pause in this program.");
        if (!pause.IsActive)
            throw new RuleViolation($"This pause was already resumed by {pause.ResumedBy}.");
        if (pause.WasPausedBy(actor))
            throw new RuleViolation("You paused this program: a different privacy officer must resume it (two-person rule).");

        var now = StoredTime.Normalize(time.GetUtcNow());
        var stillActive = pauses.Where(p => p.IsActive && p.Id != pauseId).ToList();
        var state = program.State == ProgramState.Retired ? ProgramState.Retired
            : stillActive.Any(p => p.IsWholeProgram) ? ProgramState.Paused
            : ProgramState.Active;
        await scope.ExecuteAsync(Touch, new { program.Id, State = state, Now = now });
        var stillPausedKeys = stillActive.SelectMany(p => p.CategoryKeys).ToHashSet(StringComparer.Ordinal);
        var release = pause.CategoryKeys.Where(key => !stillPausedKeys.Contains(key)).ToArray();
        if (release.Length > 0)
            await scope.ExecuteAsync($"UPDATE categories SET paused = @Paused WHERE program_id = @ProgramId AND key {scope.Dialect.AnyOf("@Keys")}",
                new { Paused = false, ProgramId = program.Id, Keys = scope.Dialect.List(release) });
        await scope.ExecuteAsync(MarkResumed, new { Id = pauseId, By = actor.Name, BySubjectId = actor.SubjectId, Now = now, Resolution = text });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.ProgramResumed,
            Program: program.Key, Detail: $"pause {pauseId} paused by {pause.PausedBy}: {text}"));
        await scope.CommitAsync();
    }

    /// <summary>Every pause of the program, newest first, with its categories.</summary>
    public async Task<IReadOnlyList<Pause>> HistoryAsync(string programKey, CancellationToken cancellationToken = default)
    {
        var program = await programs.GetAsync(programKey, cancellationToken) ?? throw new NotFoundProblem($"There is no program '{programKey}'.");
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await LoadAsync(connection, null, program.Id, cancellationToken);
    }

    private static async Task<IReadOnlyList<Pause>> LoadAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, long programId,
        CancellationToken cancellationToken)
    {
        var pauses = await connection.QueryAsync<Pause>(new CommandDefinition(History, new { ProgramId = programId }, transaction, cancellationToken: cancellationToken));
        var categories = (await connection.QueryAsync<PauseCategoryRow>(new CommandDefinition(PauseCategories, new { ProgramId = programId }, transaction, cancellationToken: cancellationToken)))
            .ToLookup(row => row.PauseId, row => row.CategoryKey);
        return pauses.Select(p => p with { CategoryKeys = categories[p.Id].Order(StringComparer.Ordinal).ToList() }).ToList();
    }


    private sealed record PauseCategoryRow
    {
        public long PauseId { get; init; }
        public long CategoryId { get; init; }
        public string CategoryKey { get; init; } = "";
    }
}
