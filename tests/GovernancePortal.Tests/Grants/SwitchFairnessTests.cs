using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;
using GovernancePortal.Grants;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Grants;

/// <summary>
/// A switch waits only for the reads already in, never for reads that arrive after it (SqlDialect.GateAsync).
/// On PostgreSQL a FOR SHARE locker does not queue behind a waiting FOR UPDATE: without the gates, a read arriving
/// while an officer's end waits would read, and a steady stream of such reads would hold the end off for ever.
/// </summary>
public sealed class SwitchFairnessTests : DatabaseTests
{
    [Theory, MemberData(nameof(Engines))]
    public async Task AReadArrivingWhileAnEndWaits_QueuesBehindTheEnd_AndIsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");

        var (ended, late) = await SwitchBehindAReadInProgressAsync(db, Gate.Grant, id,
            () => db.Services.GetRequiredService<GrantDesk>().EndAsync(id, "Leak under investigation", world.Omar, Cancellation),
            () => db.Services.GetRequiredService<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation));

        await ended;
        var refused = await Assert.ThrowsAsync<GrantStopped>(() => late);
        Assert.Contains("ended this grant", refused.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AReadArrivingWhileAPauseWaits_QueuesBehindThePause_AndIsRefused(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var program = (await db.Services.GetRequiredService<ProgramQueries>().GetAsync("mci", Cancellation))!;

        var (paused, late) = await SwitchBehindAReadInProgressAsync(db, Gate.Program, program.Id,
            () => db.Services.GetRequiredService<PauseSwitch>().PauseAsync("mci", [], "Leak under investigation", world.Priya, Cancellation),
            () => db.Services.GetRequiredService<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation));

        await paused;
        var refused = await Assert.ThrowsAsync<GrantStopped>(() => late);
        Assert.Contains("program is paused", refused.Message);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task AReadArrivingWhileARevocationWaits_QueuesBehindIt_AndLeavesThePersonOut(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes");
        var bob = new Actor("bob@example.com", [Roles.Employee], world.Bob);

        var (revoked, late) = await SwitchBehindAReadInProgressAsync(db, Gate.Subject, world.Bob,
            () => db.Services.GetRequiredService<Revocations>().RevokeAsync(world.Bob, "mci", null, bob, Cancellation),
            () => db.Services.GetRequiredService<GrantReader>().ReadAsync("mci", id, new(), 0, 25, world.Dana, Cancellation));

        await revoked;
        var page = await late;
        Assert.NotEmpty(page.Records);
        Assert.DoesNotContain(page.Records, r => r.SubjectId == world.Bob);
    }

    /// <summary>
    /// A read in progress holds <paramref name="gate"/> shared; the switch starts and waits for it; a second read
    /// arrives. Only when the first read commits may the switch go, and the second read only after the switch.
    /// </summary>
    private static async Task<(Task Switch, Task<T> Late)> SwitchBehindAReadInProgressAsync<T>(TestDatabase db, Gate gate, long id, Func<Task> flip, Func<Task<T>> read)
    {
        var connections = db.Services.GetRequiredService<ConnectionFactory>();
        Task flipped;
        Task<T> late;
        await using (var inProgress = await connections.BeginWriteAsync(Cancellation))
        {
            await inProgress.GateAsync(gate, GateMode.Shared, id);
            var table = gate switch { Gate.Grant => "grants", Gate.Program => "programs", _ => "subjects" };
            await inProgress.ExecuteAsync($"SELECT id FROM {table} WHERE id = @Id {inProgress.Dialect.ForShare}", new { Id = id });

            flipped = Task.Run(flip);
            await UntilWaitingAsync(db, 1);
            late = Task.Run(read);
            await UntilWaitingAsync(db, 2);
            Assert.False(flipped.IsCompleted, "the switch waits for the read in progress");
            Assert.False(late.IsCompleted, "the read that came after the switch waits for it");
            await inProgress.CommitAsync();
        }
        await Task.WhenAny(Task.WhenAll(flipped, late), Task.Delay(TimeSpan.FromSeconds(20), Cancellation));
        Assert.True(flipped.IsCompleted && late.IsCompleted, "both went on once the read in progress committed");
        return (flipped, late);
    }

    /// <summary>PostgreSQL: until that many other sessions wait for a lock. SQLite: writers queue in the process; give them time to.</summary>
    private static async Task UntilWaitingAsync(TestDatabase db, int sessions)
    {
        if (db.Engine != Engine.Postgres)
        {
            await Task.Delay(300, Cancellation);
            return;
        }
        await using var connection = await db.OpenAsync();
        for (var i = 0; i < 400; i++)
        {
            var waiting = await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
            if (waiting >= sessions)
                return;
            await Task.Delay(25, Cancellation);
        }
        Assert.Fail($"{sessions} session(s) never waited for a lock");
    }
}
