using GovernancePortal.Jobs;
using GovernancePortal.Testing;

namespace GovernancePortal.Tests.Jobs;

/// <summary>Each run of a recurring job is recorded; a failure keeps the kind of error, never its message, and is thrown on for Hangfire to retry.</summary>
public sealed class JobRunsTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task Record_SuccessThenFailure_LatestShowsTheFailure_WithoutItsMessage(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var runs = db.Get<JobRuns>();

        await runs.RecordAsync("sweep", _ => Task.FromResult(3), n => $"{n} done", Cancellation);
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            runs.RecordAsync<int>("sweep", _ => throw new InvalidOperationException("alice@example.com broke it"), n => "", Cancellation));
        await runs.RecordAsync("other", _ => Task.FromResult(1), n => $"{n} done", Cancellation);

        Assert.Equal("alice@example.com broke it", thrown.Message);
        var latest = await runs.LatestAsync(Cancellation);
        Assert.Equal(["other", "sweep"], latest.Select(r => r.Job));
        var sweep = latest.Single(r => r.Job == "sweep");
        Assert.True(sweep.Failed);
        Assert.Equal("failed: InvalidOperationException", sweep.Summary);
        Assert.NotNull(sweep.FinishedAt);
        Assert.False(latest.Single(r => r.Job == "other").Failed);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task Record_FailureThenSuccess_LatestIsTheSuccess(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var runs = db.Get<JobRuns>();

        await Assert.ThrowsAsync<TimeoutException>(() => runs.RecordAsync<int>("sweep", _ => throw new TimeoutException(), n => "", Cancellation));
        await runs.RecordAsync("sweep", _ => Task.FromResult(0), n => "retried", Cancellation);

        var sweep = Assert.Single(await runs.LatestAsync(Cancellation));
        Assert.False(sweep.Failed);
        Assert.Equal("retried", sweep.Summary);
    }
}
