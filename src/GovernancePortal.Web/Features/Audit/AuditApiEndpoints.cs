using System.Globalization;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Crypto;
using GovernancePortal.Web.Features.Collection;

namespace GovernancePortal.Web.Features.Audit;

/// <summary>
/// The auditors' checkpoint and proof API (docs/audit-log.md, "Proofs against checkpoints"): the public keys,
/// the signed checkpoints, and inclusion and consistency proofs against them, hashes in lowercase hex. They
/// carry hashes and signatures only, never an event's fields, so reading them is not itself audited.
/// </summary>
public static class AuditApiEndpoints
{
    public const string Prefix = "/api/v1/audit";
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static void MapAuditApi(this WebApplication app)
    {
        var api = app.MapGroup(Prefix).RequireAuthorization(Roles.Auditor);
        api.MapGet("/public-key", PublicKeysAsync);
        api.MapGet("/checkpoints", CheckpointsAsync);
        api.MapGet("/checkpoints/latest", LatestAsync);
        api.MapGet("/checkpoints/{size}", BySizeAsync);
        api.MapGet("/proofs/inclusion", InclusionAsync);
        api.MapGet("/proofs/consistency", ConsistencyAsync);
    }

    public sealed record CheckpointJson(string Origin, long TreeSize, string RootHash, DateTimeOffset Time, string KeyId, string Note)
    {
        public static CheckpointJson Of(Checkpoint c) => new(c.Origin, c.TreeSize, c.RootHash, c.Time, c.KeyId, c.Note);
    }

    public sealed record CheckpointPage(IReadOnlyList<CheckpointJson> Checkpoints, long? NextBefore);

    public sealed record InclusionJson(long Seq, long Index, long TreeSize, string LeafHash, string RootHash, IReadOnlyList<string> Proof, CheckpointJson Checkpoint);

    public sealed record ConsistencyJson(long FromSize, string FromRoot, long ToSize, string ToRoot, IReadOnlyList<string> Proof, CheckpointJson From, CheckpointJson To);

    /// <summary>Every signing key as PEM, the current one first: the key id in a checkpoint's signature picks one.</summary>
    private static async Task<IResult> PublicKeysAsync(SigningKeys keys, CancellationToken cancellationToken)
    {
        var all = await keys.PublicKeysAsync(cancellationToken);
        if (all.Count == 0)
            return NotFound("The portal has not signed anything yet, so it has no signing key; it makes one with its first checkpoint.");
        var pem = string.Concat(all.OrderBy(key => key.RetiredAt is null ? 0 : 1).Select(key => key.Pem));
        return Results.Text(pem, "application/x-pem-file");
    }

    private static async Task<IResult> CheckpointsAsync(string? before, string? limit, CheckpointStore store, CancellationToken cancellationToken)
    {
        if (!Optional(before, "before", out var beforeSize, out var problem) || !Optional(limit, "limit", out var pageSize, out problem))
            return problem!;
        var size = (int)(pageSize ?? DefaultPageSize);
        if (size is < 1 or > MaxPageSize)
            return BadRequest($"limit is between 1 and {MaxPageSize}.");
        var page = await store.ListAsync(beforeSize, size, cancellationToken);
        var next = page.Count == size && page[^1].TreeSize > 0 ? page[^1].TreeSize : (long?)null;
        return Results.Ok(new CheckpointPage(page.Select(CheckpointJson.Of).ToList(), next));
    }

    private static async Task<IResult> LatestAsync(CheckpointStore store, CancellationToken cancellationToken) =>
        await store.LatestAsync(cancellationToken) is { } latest ? Results.Ok(CheckpointJson.Of(latest)) : NoCheckpointYet();

    private static async Task<IResult> BySizeAsync(string size, CheckpointStore store, CancellationToken cancellationToken)
    {
        if (!Required(size, "size", out var treeSize, out var problem))
            return problem!;
        return await store.BySizeAsync(treeSize, cancellationToken) is { } checkpoint ? Results.Ok(CheckpointJson.Of(checkpoint)) : NoCheckpointOfSize(treeSize);
    }

    private static async Task<IResult> InclusionAsync(string? seq, string? size, CheckpointStore store, AuditTree tree, CancellationToken cancellationToken)
    {
        if (!Required(seq, "seq", out var eventSeq, out var problem) || !Optional(size, "size", out var treeSize, out problem))
            return problem!;
        if (eventSeq < 1)
            return BadRequest("seq starts at 1.");
        var checkpoint = treeSize is { } wanted ? await store.BySizeAsync(wanted, cancellationToken) : await store.LatestAsync(cancellationToken);
        if (checkpoint is null)
            return treeSize is { } missing ? NoCheckpointOfSize(missing) : NoCheckpointYet();
        if (eventSeq > checkpoint.TreeSize)
            return BadRequest($"Event {eventSeq} is not in the checkpoint of size {checkpoint.TreeSize}; ask for a later checkpoint.");
        InclusionProof proof;
        try
        {
            proof = (await tree.InclusionProofsAsync([eventSeq], checkpoint.TreeSize, cancellationToken)).Single();
        }
        catch (NotFoundProblem missing)
        {
            return LogShorterThanCheckpoint(missing);
        }
        return Results.Ok(new InclusionJson(proof.Seq, proof.Index, checkpoint.TreeSize, Hex(proof.Leaf), checkpoint.RootHash,
            proof.Path.Select(Hex).ToList(), CheckpointJson.Of(checkpoint)));
    }

    private static async Task<IResult> ConsistencyAsync(string? from, string? to, CheckpointStore store, AuditTree tree, CancellationToken cancellationToken)
    {
        if (!Required(from, "from", out var fromSize, out var problem) || !Optional(to, "to", out var toSize, out problem))
            return problem!;
        if (toSize is { } end && fromSize > end)
            return BadRequest($"from ({fromSize}) must not be larger than to ({end}).");
        var old = await store.BySizeAsync(fromSize, cancellationToken);
        if (old is null)
            return NoCheckpointOfSize(fromSize);
        var current = toSize is { } wanted ? await store.BySizeAsync(wanted, cancellationToken) : await store.LatestAsync(cancellationToken);
        if (current is null)
            return NoCheckpointOfSize(toSize ?? 0);
        ConsistencyProof proof;
        try
        {
            proof = await tree.ConsistencyProofAsync(old.TreeSize, current.TreeSize, cancellationToken);
        }
        catch (NotFoundProblem missing)
        {
            return LogShorterThanCheckpoint(missing);
        }
        return Results.Ok(new ConsistencyJson(old.TreeSize, old.RootHash, current.TreeSize, current.RootHash, proof.Path.Select(Hex).ToList(),
            CheckpointJson.Of(old), CheckpointJson.Of(current)));
    }

    private static bool Required(string? text, string name, out long value, out IResult? problem)
    {
        value = 0;
        if (string.IsNullOrEmpty(text))
        {
            problem = BadRequest($"{name} is required: a whole number.");
            return false;
        }
        var ok = Optional(text, name, out var parsed, out problem);
        value = parsed ?? 0;
        return ok;
    }

    private static bool Optional(string? text, string name, out long? value, out IResult? problem)
    {
        value = null;
        problem = null;
        if (string.IsNullOrEmpty(text))
            return true;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            problem = BadRequest($"{name} must be a whole number of 0 or more, not '{(text.Length > 20 ? text[..20] + "…" : text)}'.");
            return false;
        }
        value = parsed;
        return true;
    }

    private static IResult BadRequest(string detail) => CollectionProblems.Result(StatusCodes.Status400BadRequest, "Bad parameters", detail);

    private static IResult NotFound(string detail) => CollectionProblems.Result(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>Events a checkpoint covers are gone: the log was truncated, which the verification job reports too.</summary>
    private static IResult LogShorterThanCheckpoint(NotFoundProblem missing) =>
        CollectionProblems.Result(StatusCodes.Status409Conflict, "The log is shorter than its checkpoint", missing.Message);

    private static IResult NoCheckpointYet() => NotFound("No checkpoint has been signed yet; the checkpoint job signs one at least hourly.");

    private static IResult NoCheckpointOfSize(long size) =>
        NotFound($"There is no checkpoint of tree size {size}; {Prefix}/checkpoints lists them.");

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
