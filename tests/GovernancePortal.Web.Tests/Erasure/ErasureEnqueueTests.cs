using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Erasure;
using GovernancePortal.Holds;
using GovernancePortal.Requests;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Web.Tests.Erasure;

/// <summary>
/// The host enqueues the erasure sweep the moment a commit gives it work, not at the next scheduled run. The
/// enqueued jobs are recorded where the host hands them to Hangfire (its storage is a static that parallel
/// test hosts share); the sweep itself is proven in the library's tests.
/// </summary>
public sealed class ErasureEnqueueTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithdrawalErasureRequestUpheldObjectionAndRelease_EachEnqueueTheSweep_AnExportDoesNot()
    {
        var jobs = new RecordedJobs();
        await using var portal = PortalFactory.For(Engine.Sqlite, testServices: services => services.AddSingleton<IBackgroundJobClient>(jobs));
        await portal.InitializeAsync();
        using var client = portal.CreateClient();
        var host = portal.Services;
        long bob, priya;
        await using (var connection = await portal.Database.OpenAsync())
        {
            bob = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'bob@example.com'");
            priya = await connection.ExecuteScalarAsync<long>("SELECT id FROM subjects WHERE email = 'priya@example.com'");
        }
        var bobActor = new Actor("bob@example.com", [Roles.Employee], bob);
        var officer = new Actor("priya@example.com", [Roles.PrivacyOfficer, Roles.Employee], priya);

        await host.GetRequiredService<Withdrawals>().WithdrawAsync(bob, "mci", "keystrokes", bobActor, Cancellation);
        var afterWithdrawal = jobs.Sweeps;
        await host.GetRequiredService<RequestDesk>().SubmitAsync(bob, RequestKind.Export, null, null, bobActor, Cancellation);
        var afterExport = jobs.Sweeps;
        await host.GetRequiredService<RequestDesk>().SubmitAsync(bob, RequestKind.Erasure, null, null, bobActor, Cancellation);
        var afterErasure = jobs.Sweeps;
        var objection = await host.GetRequiredService<Withdrawals>().WithdrawAsync(bob, "endpoint-security", null, bobActor, Cancellation);
        var afterObjection = jobs.Sweeps;
        await host.GetRequiredService<RequestDesk>().DecideObjectionAsync(objection.FollowUp.Reference, uphold: true, "Upheld.", officer, Cancellation);
        var afterUphold = jobs.Sweeps;
        var hold = await host.GetRequiredService<LegalHolds>().PlaceAsync(new HoldPlacement("bob@example.com", null, "Reason", "CASE-1", "priya@example.com",
            DateOnly.FromDateTime(DateTime.UtcNow).AddDays(10), "Kept for a case."), officer, Cancellation);
        await host.GetRequiredService<LegalHolds>().ReleaseAsync(hold.Id, "Done.", officer, Cancellation);

        Assert.Equal([1, 1, 2, 2, 3, 4], [afterWithdrawal, afterExport, afterErasure, afterObjection, afterUphold, jobs.Sweeps]);
    }

    private sealed class RecordedJobs : IBackgroundJobClient
    {
        private int _sweeps;

        public int Sweeps => _sweeps;

        public string Create(Job job, IState state)
        {
            if (job.Type == typeof(ErasureSweepJob) && job.Method.Name == nameof(ErasureSweepJob.RunAsync))
                Interlocked.Increment(ref _sweeps);
            return Guid.NewGuid().ToString("N");
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => true;
    }
}
