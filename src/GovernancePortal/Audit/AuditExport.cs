using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Crypto;
using GovernancePortal.Data;

namespace GovernancePortal.Audit;

/// <summary>A contiguous run of events, seq <see cref="From"/> to <see cref="To"/>, both included.</summary>
public sealed record AuditRange(long From, long To)
{
    public long Count => To - From + 1;

    public override string ToString() => $"seq {From}-{To}";
}

/// <summary>An export the auditor asked for, its range resolved and its audit event committed.</summary>
public sealed record AuditExportPlan(AuditRange Range, AuditExportFormat Format)
{
    public string FileName => $"audit-{Range.From}-{Range.To}.{AuditExportWriter.Extension(Format)}";
}

/// <summary>
/// Auditors' exports of the log (docs/audit-log.md, "Exports"): a range of events as CSV or JSON Lines, read
/// forward-only in seq order and written as it is read, so a million events take the memory of a hundred; and
/// its manifest, signed with the portal's key. Every export and every manifest is itself audited (who, which
/// range, which format) and that event commits before anything is returned. <c>from</c> and <c>to</c> are each
/// a seq or an ISO-8601 UTC time: a seq is included, a time <c>from</c> starts at the first event at or after it,
/// a time <c>to</c> ends at the last event before it. The manifest names the covering checkpoint (the earliest
/// signed tree head that holds the export's last event) with that event's inclusion proof in it.
/// </summary>
public sealed partial class AuditExport(ConnectionFactory connections, AuditLog audit, SigningKeys keys, CheckpointStore checkpoints, AuditTree tree, TimeProvider time)
{
    private const string Columns = """
        SELECT seq AS Seq, occurred_at AS OccurredAt, actor AS Actor, actor_roles AS ActorRoles, action AS Action,
               subject_id AS SubjectId, program AS Program, purpose AS Purpose, detail AS Detail,
               record_count AS RecordCount, prev_hash AS PrevHash, hash AS Hash
        FROM audit_events
        """;

    private const string EventsInRange = Columns + " WHERE seq BETWEEN @From AND @To ORDER BY seq";

    private const string Head = Columns + " ORDER BY seq DESC LIMIT 1";

    private const string HashesUpTo = "SELECT hash FROM audit_events WHERE seq <= @Size ORDER BY seq";

    private const string HeadSeq = "SELECT coalesce(max(seq), 0) FROM audit_events";

    // Both served by ix_audit_events_occurred: one index step each.
    private const string FirstAtOrAfter = "SELECT seq FROM audit_events WHERE occurred_at >= @Time ORDER BY occurred_at, seq LIMIT 1";
    private const string LastBefore = "SELECT seq FROM audit_events WHERE occurred_at < @Time ORDER BY occurred_at DESC, seq DESC LIMIT 1";

    /// <summary>Checks the parameters, resolves the range and writes the export's audit event; what is returned is then written by <see cref="WriteAsync"/>.</summary>
    public async Task<AuditExportPlan> StartAsync(string? from, string? to, string? format, Actor actor, CancellationToken cancellationToken = default)
    {
        var plan = await PlanAsync(from, to, format, actor, cancellationToken);
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.AuditExported,
            Detail: $"{plan.Range} as {AuditExportWriter.Name(plan.Format)}", RecordCount: plan.Range.Count));
        await scope.CommitAsync();
        return plan;
    }

    /// <summary>Writes the planned events to <paramref name="output"/>, streaming, and returns the figures a manifest states.</summary>
    public async Task<AuditExportSummary> WriteAsync(AuditExportPlan plan, Stream output, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var writer = new AuditExportWriter(output, plan.Format);
        writer.Begin();
        await using var command = connection.CreateCommand();
        command.CommandText = EventsInRange;
        Add(command, "From", plan.Range.From);
        Add(command, "To", plan.Range.To);
        // A plain forward-only reader, field by field: what the export costs is reading and writing, nothing else.
        await using (var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken))
        {
            var microseconds = reader.GetFieldType(1) == typeof(long);
            while (await reader.ReadAsync(cancellationToken))
            {
                await writer.WriteAsync(new AuditEvent
                {
                    Seq = reader.GetInt64(0),
                    OccurredAt = microseconds ? DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(1) * 10) : new DateTimeOffset(reader.GetFieldValue<DateTime>(1), TimeSpan.Zero),
                    Actor = reader.GetString(2),
                    ActorRoles = reader.GetString(3),
                    Action = reader.GetString(4),
                    SubjectId = reader.IsDBNull(5) ? null : reader.GetInt64(5),
                    Program = reader.IsDBNull(6) ? null : reader.GetString(6),
                    Purpose = reader.IsDBNull(7) ? null : reader.GetString(7),
                    Detail = reader.IsDBNull(8) ? null : reader.GetString(8),
                    RecordCount = reader.IsDBNull(9) ? null : reader.GetInt64(9),
                    PrevHash = reader.GetString(10),
                    Hash = reader.GetString(11),
                }, cancellationToken);
            }
        }
        var summary = await writer.EndAsync(cancellationToken);
        if (summary.Count != plan.Range.Count)
            throw new InvalidOperationException($"The log returned {summary.Count} events for {plan.Range}.");
        return summary;
    }

    /// <summary>
    /// The signed manifest of the export that <see cref="StartAsync"/> with the same seq bounds and format writes:
    /// the export is written once more, to nowhere, to count and hash its bytes.
    /// </summary>
    public async Task<AuditExportManifest> ManifestAsync(string? from, string? to, string? format, Actor actor, CancellationToken cancellationToken = default)
    {
        var plan = await PlanAsync(from, to, format, actor, cancellationToken);
        var summary = await WriteAsync(plan, Stream.Null, cancellationToken);
        var treeRoot = await RootAsync(plan.Range.To, cancellationToken);
        // The earliest signed checkpoint whose tree holds the export's last event; the head is signed now when none does yet.
        var covering = await checkpoints.CoveringAsync(plan.Range.To, cancellationToken) ?? await checkpoints.SignNowAsync(cancellationToken);
        // The last event's proof, and for an export that starts later than seq 1 the proof of the event before its
        // first (whose hash is the first row's prevHash): both ends anchored in one signed tree.
        var proofs = await tree.InclusionProofsAsync(plan.Range.From > 1 ? [plan.Range.To, plan.Range.From - 1] : [plan.Range.To], covering.TreeSize, cancellationToken);
        var unsigned = new AuditExportManifest
        {
            Format = AuditExportWriter.Name(plan.Format),
            From = plan.Range.From,
            To = plan.Range.To,
            Count = summary.Count,
            PrevHash = summary.PrevHash,
            FirstHash = summary.FirstHash,
            LastHash = summary.LastHash,
            ExportBytes = summary.Bytes,
            ExportSha256 = summary.Sha256,
            TreeSize = plan.Range.To,
            TreeRoot = Convert.ToHexStringLower(treeRoot),
            Checkpoint = new ManifestCheckpoint(covering.TreeSize, covering.RootHash, covering.Note, Hex(proofs[0].Path), proofs.Count > 1 ? Hex(proofs[1].Path) : null),
            GeneratedAt = AuditChain.FormatTime(StoredTime.Normalize(time.GetUtcNow())),
        };
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.AuditManifestSigned,
            Detail: $"{plan.Range} as {unsigned.Format}", RecordCount: plan.Range.Count));
        var signature = await keys.SignAsync(scope, unsigned.SignedBytes());
        await scope.CommitAsync();
        return unsigned with { KeyId = signature.KeyId, Signature = signature.Base64 };
    }

    private static void Add(DbCommand command, string name, long value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static List<string> Hex(IReadOnlyList<byte[]> path) => path.Select(Convert.ToHexStringLower).ToList();

    /// <summary>The head of the log as the status page shows it; null when the log is empty.</summary>
    public async Task<AuditEvent?> HeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AuditEvent>(new CommandDefinition(Head, cancellationToken: cancellationToken));
    }

    private async Task<AuditExportPlan> PlanAsync(string? from, string? to, string? format, Actor actor, CancellationToken cancellationToken)
    {
        actor.Require(Roles.Auditor, "Only auditors export the audit log.");
        if (!AuditExportWriter.TryParse(format, out var parsedFormat))
            throw new RuleViolation("format is csv or jsonl.", "format");
        var fromBound = Bound.Parse(from, "from");
        var toBound = Bound.Parse(to, "to");
        await using var connection = await connections.OpenAsync(cancellationToken);
        var head = await connection.ExecuteScalarAsync<long>(new CommandDefinition(HeadSeq, cancellationToken: cancellationToken));
        if (head == 0)
            throw new RuleViolation("The log has no event yet: there is nothing to export.");
        if (fromBound.Seq is { } f && f > head)
            throw new RuleViolation($"from is seq {f}, but the log ends at seq {head}.", "from");
        if (toBound.Seq is { } t && t > head)
            throw new RuleViolation($"to is seq {t}, but the log ends at seq {head}.", "to");
        var first = await ResolveAsync(connection, fromBound, FirstAtOrAfter, 1, cancellationToken);
        var last = await ResolveAsync(connection, toBound, LastBefore, head, cancellationToken);
        if (first is null || last is null || first > last)
            throw new RuleViolation(fromBound.Time is null && toBound.Time is null
                ? "from must not be after to."
                : "No event lies in that range.");
        return new AuditExportPlan(new AuditRange(first.Value, last.Value), parsedFormat);
    }

    private static async Task<long?> ResolveAsync(DbConnection connection, Bound bound, string byTime, long byDefault, CancellationToken cancellationToken) =>
        bound.Seq ?? (bound.Time is { } moment
            ? await connection.ExecuteScalarAsync<long?>(new CommandDefinition(byTime, new { Time = moment }, cancellationToken: cancellationToken))
            : byDefault);

    /// <summary>The Merkle root of the first <paramref name="size"/> events, read forward-only (O(log n) memory).</summary>
    private async Task<byte[]> RootAsync(long size, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var root = new MerkleRootBuilder();
        var leaf = new byte[MerkleTree.HashSize];
        await foreach (var hash in connection.QueryUnbufferedAsync<string>(HashesUpTo, new { Size = size }).WithCancellation(cancellationToken))
        {
            Convert.FromHexString(hash, leaf, out _, out _);
            root.Add(leaf);
        }
        if (root.Count != size)
            throw new InvalidOperationException($"The log has {root.Count} events up to seq {size}.");
        return root.Root();
    }

    /// <summary>One end of a range: a seq (digits), an ISO-8601 UTC time, or nothing (the log's start or end).</summary>
    private sealed record Bound(long? Seq, DateTimeOffset? Time)
    {
        public static Bound Parse(string? text, string name)
        {
            if (string.IsNullOrWhiteSpace(text))
                return new Bound(null, null);
            text = text.Trim();
            if (text.All(char.IsAsciiDigit))
            {
                return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq >= 1
                    ? new Bound(seq, null)
                    : throw new RuleViolation($"{name} is a seq of at least 1 (or a time); {text} is not.", name);
            }
            if (IsoTime().IsMatch(text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var moment))
                return new Bound(null, moment);
            throw new RuleViolation($"{name} is a seq (a whole number) or a UTC time such as 2026-11-27 or 2026-11-27T09:15:00Z; \"{(text.Length > 40 ? text[..40] + "…" : text)}\" is neither.", name);
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$")]
    private static partial Regex IsoTime();
}
