using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Jobs;

/// <summary>One run of a recurring job. <see cref="FinishedAt"/> is null while it runs or when its process died.</summary>
public sealed record JobRun
{
    public long Id { get; init; }
    public string Job { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public bool Failed { get; init; }
    public string? Summary { get; init; }
}

/// <summary>
/// The portal's own record of its recurring jobs (the <c>job_runs</c> table): every run is written when it
/// starts and completed when it ends, so officers see on their home whether the sweeps run, whatever
/// Hangfire's storage holds. A failure keeps the kind of error, never its message (which may quote data),
/// and is thrown on, so Hangfire retries the job and shows it failed once its retries are spent.
/// </summary>
public sealed class JobRuns(ConnectionFactory connections, TimeProvider time)
{
    public const int MaxSummaryLength = 500;

    private const string Start = "INSERT INTO job_runs (job, started_at) VALUES (@Job, @StartedAt) RETURNING id";

    private const string Finish = "UPDATE job_runs SET finished_at = @FinishedAt, failed = @Failed, summary = @Summary WHERE id = @Id";

    // Per job, its latest run that ended; a run whose process died leaves no verdict and is not counted.
    private const string LatestFinished = """
        SELECT j.id AS Id, j.job AS Job, j.started_at AS StartedAt, j.finished_at AS FinishedAt, j.failed AS Failed, j.summary AS Summary
        FROM job_runs j
        WHERE j.id = (SELECT max(l.id) FROM job_runs l WHERE l.job = j.job AND l.finished_at IS NOT NULL)
        ORDER BY j.job
        """;

    /// <summary>Runs <paramref name="work"/> as one recorded run of <paramref name="job"/>; its result is the run's summary.</summary>
    public async Task<T> RecordAsync<T>(string job, Func<CancellationToken, Task<T>> work, Func<T, string> summary, CancellationToken cancellationToken)
    {
        long id;
        await using (var scope = await connections.BeginWriteAsync(cancellationToken))
        {
            id = await scope.ExecuteScalarAsync<long>(Start, new { Job = job, StartedAt = StoredTime.Normalize(time.GetUtcNow()) });
            await scope.CommitAsync();
        }
        T result;
        try
        {
            result = await work(cancellationToken);
        }
        catch (Exception exception)
        {
            // Recorded even when the run was cancelled: the next run starts from the database, not from here.
            await FinishAsync(id, failed: true, $"failed: {exception.GetType().Name}", CancellationToken.None);
            throw;
        }
        await FinishAsync(id, failed: false, summary(result), CancellationToken.None);
        return result;
    }

    /// <summary>Each job's latest finished run, by job id.</summary>
    public async Task<IReadOnlyList<JobRun>> LatestAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<JobRun>(new CommandDefinition(LatestFinished, cancellationToken: cancellationToken))).AsList();
    }

    private async Task FinishAsync(long id, bool failed, string summary, CancellationToken cancellationToken)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        await scope.ExecuteAsync(Finish, new
        {
            Id = id, FinishedAt = StoredTime.Normalize(time.GetUtcNow()), Failed = failed,
            Summary = summary.Length <= MaxSummaryLength ? summary : summary[..MaxSummaryLength],
        });
        await scope.CommitAsync();
    }
}
