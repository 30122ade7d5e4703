using System.Globalization;
using System.Threading.RateLimiting;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Web.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace GovernancePortal.Web.Features.Collection;

/// <summary>
/// <c>POST /api/v1/collect</c> and <c>GET /api/v1/collect/status</c> (docs/collection-api.md). Accepted means
/// committed: the answer is sent after the records' transaction commits.
/// </summary>
public static class CollectionEndpoints
{
    public const string RateLimitPolicy = "collector";
    public const int MaxIdempotencyKeyLength = 200;

    public static WebApplicationBuilder AddCollectionApi(this WebApplicationBuilder builder)
    {
        var options = builder.PortalOptions().Collection;
        builder.Services.AddSingleton(_ => new FailedTokenLimiter(options.FailedTokenLimit.PerMinute, options.FailedTokenLimit.Burst));
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, CollectorAuthentication>(CollectorAuthentication.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(CollectorAuthentication.Policy, policy => policy
                .AddAuthenticationSchemes(CollectorAuthentication.SchemeName)
                .RequireClaim(CollectorAuthentication.CollectorIdClaim));

        var (perSecond, burst) = options.RateLimit;
        builder.Services.AddRateLimiter(options =>
        {
            options.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.User.FindFirst(CollectorAuthentication.CollectorIdClaim)?.Value ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            options.OnRejected = (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                return new ValueTask(CollectionProblems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"This collector sends more than {perSecond} requests a second; wait {retryAfter} s and retry with the same Idempotency-Key.", retryAfter));
            };
        });
        return builder;
    }

    public static void MapCollectionApi(this WebApplication app)
    {
        var readTimeout = app.PortalOptions().Collection.BodyReadTimeout;
        var group = app.MapGroup("/api/v1/collect")
            .RequireAuthorization(CollectorAuthentication.Policy)
            .RequireRateLimiting(RateLimitPolicy)
            .DisableAntiforgery();

        group.MapPost("", (HttpContext context, CollectionService service, ILoggerFactory logs) =>
                CollectAsync(context, service, logs.CreateLogger(typeof(CollectionEndpoints)), readTimeout))
            .WithMetadata(new RequestSizeLimitAttribute(CollectBatch.MaxBodyBytes));

        group.MapGet("/status", async (HttpContext context, CollectionService service) =>
        {
            try
            {
                var status = await service.StatusAsync(CollectorAuthentication.From(context.User), context.RequestAborted);
                return Results.Ok(new { program = status.Program, state = status.State, pausedCategories = status.PausedCategories });
            }
            catch (Exception exception) when (DatabaseUnavailable.IsUnavailable(exception))
            {
                return Unavailable();
            }
        });
    }

    private static async Task<IResult> CollectAsync(HttpContext context, CollectionService service, ILogger logger, TimeSpan readTimeout)
    {
        var request = context.Request;
        var collector = CollectorAuthentication.From(context.User);
        var cancellationToken = context.RequestAborted;

        string? idempotencyKey = null;
        if (request.Headers.TryGetValue("Idempotency-Key", out var keyHeader))
        {
            idempotencyKey = keyHeader.ToString().Trim();
            if (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl))
                return CollectionProblems.Result(400, "Bad Idempotency-Key", $"An Idempotency-Key is 1 to {MaxIdempotencyKeyLength} printable characters. Nothing was stored.");
        }
        if (request.ContentLength > CollectBatch.MaxBodyBytes)
            return TooLarge();
        var contentType = request.ContentType;
        if (contentType is not null && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !CollectBatch.IsNdjson(contentType))
            return CollectionProblems.Result(400, "Unsupported content type", "Send application/json (an array of records) or application/x-ndjson. Nothing was stored.");

        try
        {
            CollectBatch batch;
            var clock = CollectionTimings.Start();
            try
            {
                await using var body = new StallGuardStream(request.Body, readTimeout, cancellationToken);
                batch = await CollectBatch.ReadAsync(body, contentType, cancellationToken);
            }
            catch (BodyStalledException)
            {
                return CollectionProblems.Result(400, "Incomplete body", $"The body stopped arriving for more than {readTimeout.TotalSeconds:0} s before it was complete. Nothing was stored.");
            }
            catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge();
            }
            catch (BadHttpRequestException exception)
            {
                return CollectionProblems.Result(400, "Incomplete body", $"The body could not be read ({exception.Message}). Nothing was stored.");
            }

            clock.Mark(CollectionTimings.Read);
            // A retry's earlier answer is looked up inside the batch's own write transaction.
            var result = await service.IngestAsync(collector, batch, idempotencyKey, cancellationToken);
            return Answer(result);
        }
        catch (CollectProblem problem)
        {
            if (problem.Status == StatusCodes.Status401Unauthorized)
                context.Response.Headers.WWWAuthenticate = "Bearer";
            return CollectionProblems.Result(problem.Status, problem.Title, problem.Message);
        }
        catch (Exception exception) when (DatabaseUnavailable.IsUnavailable(exception) && !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(exception, "Collection for collector {CollectorId} failed: database unavailable", collector.CollectorId);
            return Unavailable();
        }
    }

    private static IResult Answer(CollectResult result) => Results.Ok(new
    {
        accepted = result.Accepted,
        rejected = result.Rejected.Select(r => new { index = r.Index, reason = r.Reason }),
    });

    private static IResult TooLarge() => CollectionProblems.Result(413, "Body too large",
        $"A request body is at most {CollectBatch.MaxBodyBytes / (1024 * 1024)} MiB and {CollectBatch.MaxRecords.ToString(CultureInfo.InvariantCulture)} records. Nothing was stored.");

    private static IResult Unavailable() => CollectionProblems.Result(503, "Database unavailable",
        "The portal cannot reach its database right now; nothing was stored. Retry later with the same Idempotency-Key.", 30);
}
