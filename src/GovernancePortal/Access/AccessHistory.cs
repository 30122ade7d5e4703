using System.Data.Common;
using Dapper;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Access;

/// <summary>
/// What narrows a person's access history. Dates are whole UTC days, both inclusive; a null or blank
/// value does not filter.
/// </summary>
public sealed record AccessFilter(string? Program = null, string? Action = null, string? Actor = null, DateOnly? From = null, DateOnly? To = null)
{
    public static readonly AccessFilter None = new();

    public bool IsEmpty =>
        string.IsNullOrWhiteSpace(Program) && string.IsNullOrWhiteSpace(Action) && string.IsNullOrWhiteSpace(Actor) && From is null && To is null;
}

/// <summary>One audit event about a person, written by someone else.</summary>
public sealed record AccessEvent
{
    public long Seq { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public string Actor { get; init; } = "";
    public string ActorRoles { get; init; } = "";
    public string Action { get; init; } = "";
    public string? Program { get; init; }
    public string? ProgramName { get; init; }
    public string? Purpose { get; init; }
    public string? Detail { get; init; }
    public long? RecordCount { get; init; }

    public IReadOnlyList<string> Roles =>
        ActorRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The categories a read names in its detail (<see cref="RecordAccessDetail"/>).</summary>
    public IReadOnlyList<string> Categories => RecordAccessDetail.Read(Detail).Categories;

    /// <summary>The grant a read was made under, as its detail names it.</summary>
    public long? GrantId => RecordAccessDetail.Read(Detail).GrantId;
}

/// <summary>A page of a person's access history, newest first, and how many events match in all.</summary>
public sealed record AccessPage(IReadOnlyList<AccessEvent> Events, long Total);

/// <summary>The header of a person's access history, and the values its filters can take.</summary>
public sealed record AccessSummary(long EventCount, long ActorCount, DateTimeOffset? LastAccessAt, IReadOnlyList<string> Programs, IReadOnlyList<string> Actions);

/// <summary>
/// "Who accessed my data": the audit events whose subject is the person and whose actor is anyone
/// but the person (jobs, as <c>system</c>, included). The subject id must come from the sign-in,
/// never from the client; <c>selfActor</c> is the name the person's own actions are logged under.
/// Every query starts from <c>ix_audit_events_subject (subject_id, seq)</c>.
/// </summary>
public sealed class AccessHistory(ConnectionFactory connections)
{
    private const string AboutSubject = """
        FROM audit_events e
        WHERE e.subject_id = @SubjectId AND lower(e.actor) <> lower(@Self)
        """;

    // Each filter adds its own fixed condition; values always travel as parameters. A condition per
    // filter, rather than "@x IS NULL OR ...", keeps PostgreSQL from having to guess the type of a null.
    private const string ProgramIs = " AND e.program = @Program";
    private const string ActionIs = " AND e.action = @Action";
    private const string ActorContains = @" AND lower(e.actor) LIKE @ActorPattern ESCAPE '\'";
    private const string OccurredFrom = " AND e.occurred_at >= @From";
    private const string OccurredBefore = " AND e.occurred_at < @Before";

    private const string PageColumns = """
        SELECT e.seq AS Seq, e.occurred_at AS OccurredAt, e.actor AS Actor, e.actor_roles AS ActorRoles, e.action AS Action,
               e.program AS Program, (SELECT p.name FROM programs p WHERE p.key = e.program) AS ProgramName,
               e.purpose AS Purpose, e.detail AS Detail, e.record_count AS RecordCount
        """;

    private const string NewestFirst = " ORDER BY e.seq DESC LIMIT @Limit OFFSET @Offset";

    private const string CountColumns = "SELECT count(*)";

    private const string SummaryColumns = """
        SELECT count(*) AS EventCount, count(DISTINCT lower(e.actor)) AS ActorCount, max(e.occurred_at) AS LastAccessAt
        """;

    private const string ProgramsSeen = """
        SELECT DISTINCT e.program
        FROM audit_events e
        WHERE e.subject_id = @SubjectId AND lower(e.actor) <> lower(@Self) AND e.program IS NOT NULL
        ORDER BY e.program
        """;

    private const string ActionsSeen = """
        SELECT DISTINCT e.action
        FROM audit_events e
        WHERE e.subject_id = @SubjectId AND lower(e.actor) <> lower(@Self)
        ORDER BY e.action
        """;

    public async Task<AccessPage> PageAsync(long subjectId, string selfActor, AccessFilter filter, int offset, int limit,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var (conditions, parameters) = Where(subjectId, selfActor, filter);
        parameters.Add("Offset", offset);
        parameters.Add("Limit", limit);

        await using var connection = await connections.OpenAsync(cancellationToken);
        var events = (await connection.QueryAsync<AccessEvent>(
            new CommandDefinition(PageColumns + conditions + NewestFirst, parameters, cancellationToken: cancellationToken))).ToList();
        var total = await connection.ExecuteScalarAsync<long>(
            new CommandDefinition(CountColumns + conditions, parameters, cancellationToken: cancellationToken));
        return new AccessPage(events, total);
    }

    /// <summary>
    /// Every event of the person's access history, oldest first, read as a stream on the caller's
    /// connection (for the export, which must not hold them all in memory).
    /// </summary>
    public static IAsyncEnumerable<AccessEvent> StreamAsync(DbConnection connection, long subjectId, string selfActor) =>
        connection.QueryUnbufferedAsync<AccessEvent>(PageColumns + "\n" + AboutSubject + " ORDER BY e.seq", new { SubjectId = subjectId, Self = selfActor });

    public async Task<AccessSummary> SummaryAsync(long subjectId, string selfActor, CancellationToken cancellationToken = default)
    {
        var parameters = new { SubjectId = subjectId, Self = selfActor };
        await using var connection = await connections.OpenAsync(cancellationToken);
        var totals = await connection.QuerySingleAsync<Totals>(
            new CommandDefinition(SummaryColumns + "\n" + AboutSubject, parameters, cancellationToken: cancellationToken));
        var programs = await ListAsync(connection, ProgramsSeen, parameters, cancellationToken);
        var actions = await ListAsync(connection, ActionsSeen, parameters, cancellationToken);
        return new AccessSummary(totals.EventCount, totals.ActorCount, totals.LastAccessAt, programs, actions);
    }

    private static (string Conditions, DynamicParameters Parameters) Where(long subjectId, string selfActor, AccessFilter filter)
    {
        var parameters = new DynamicParameters(new { SubjectId = subjectId, Self = selfActor });
        var conditions = "\n" + AboutSubject;
        if (Given(filter.Program) is { } program)
        {
            conditions += ProgramIs;
            parameters.Add("Program", program);
        }
        if (Given(filter.Action) is { } action)
        {
            conditions += ActionIs;
            parameters.Add("Action", action);
        }
        if (Given(filter.Actor) is { } actor)
        {
            conditions += ActorContains;
            parameters.Add("ActorPattern", SqlDialect.ContainsPattern(actor));
        }
        if (filter.From is { } from)
        {
            conditions += OccurredFrom;
            parameters.Add("From", StartOf(from));
        }
        if (filter.To is { } to)
        {
            conditions += OccurredBefore;
            parameters.Add("Before", StartOf(to.AddDays(1)));
        }
        return (conditions, parameters);
    }

    private static string? Given(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static DateTimeOffset StartOf(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);


    private static async Task<IReadOnlyList<string>> ListAsync(DbConnection connection, string sql, object parameters, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<string>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken))).ToList();

    private sealed record Totals
    {
        public long EventCount { get; init; }
        public long ActorCount { get; init; }
        public DateTimeOffset? LastAccessAt { get; init; }
    }
}
