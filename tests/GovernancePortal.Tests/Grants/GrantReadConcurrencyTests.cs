using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Grants;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Grants;

/// <summary>
/// docs/grants.md "What stops a read": readers on two nodes read page after page under one grant while a third
/// node ends the grant, pauses the program or takes a person's revocation. Because every page's events are
/// committed with the read, before anything is returned, the audit chain orders them: no page read in the switch's
/// scope has an event after the switch's event, and every read begun after the switch returned was refused (or,
/// for a revocation, left the person out).
/// </summary>
public sealed class GrantReadConcurrencyTests : DatabaseTests
{
    private const int Readers = 4;
    private const int ReadsBeforeAndAfter = 5;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed record Attempt(int Reader, long StartedAt, long EndedAt, GrantReadPage? Page, string? StoppedWith);

    [Theory, MemberData(nameof(Engines))]
    public async Task EndingTheGrant_WhileConsumersRead_ReturnsNoRecordAfterTheEndingCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var officersNode = db.BuildServices();
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");

        var (attempts, returnedAt) = await ReadAroundAsync(db, world, id,
            () => officersNode.GetRequiredService<GrantDesk>().EndAsync(id, "Leak under investigation", world.Omar));

        Assert.All(attempts.Where(a => a.StartedAt > returnedAt), a => Assert.Contains("ended this grant", a.StoppedWith));
        await AssertNoReadAfterAsync(db, AuditActions.GrantEnded, _ => true);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task PausingTheProgram_WhileConsumersRead_ReturnsNoRecordAfterThePausingCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var officersNode = db.BuildServices();
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");

        var (attempts, returnedAt) = await ReadAroundAsync(db, world, id,
            () => officersNode.GetRequiredService<PauseSwitch>().PauseAsync("mci", [], "Leak under investigation", world.Priya));

        Assert.All(attempts.Where(a => a.StartedAt > returnedAt), a => Assert.Contains("program is paused", a.StoppedWith));
        await AssertNoReadAfterAsync(db, AuditActions.ProgramPaused, _ => true);
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task APersonsRevocation_WhileConsumersRead_ReturnsNoRecordOfTheirsAfterItsCommit(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var subjectsNode = db.BuildServices();
        var world = await GrantWorld.CreateAsync(db);
        var id = await world.ActiveGrantAsync(db.Services, "keystrokes", "transcriptions");

        var (attempts, returnedAt) = await ReadAroundAsync(db, world, id,
            () => subjectsNode.GetRequiredService<Revocations>().RevokeAsync(world.Bob, "mci", null, new Actor("bob@example.com", [Roles.Employee], world.Bob)));

        var after = attempts.Where(a => a.StartedAt > returnedAt).ToList();
        Assert.All(after, a => Assert.DoesNotContain(a.Page!.Records, r => r.SubjectId == world.Bob));
        Assert.All(after, a => Assert.NotEmpty(a.Page!.Records));
        Assert.Contains(attempts.Where(a => a.EndedAt < returnedAt), a => a.Page!.Records.Any(r => r.SubjectId == world.Bob));
        await AssertNoReadAfterAsync(db, AuditActions.SubjectRevoked, read => read.SubjectId == world.Bob);
    }

    /// <summary>Readers read until each has <see cref="ReadsBeforeAndAfter"/> pages, the switch flips, and they read as many again.</summary>
    private static async Task<(IReadOnlyList<Attempt> Attempts, long SwitchReturnedAt)> ReadAroundAsync(TestDatabase db, GrantWorld world, long grantId, Func<Task> flip)
    {
        await using var secondNode = db.BuildServices();
        var attempts = new ConcurrentQueue<Attempt>();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
        {
            var service = (reader % 2 == 0 ? db.Services : (IServiceProvider)secondNode).GetRequiredService<GrantReader>();
            while (!stop.IsCancellationRequested)
            {
                var startedAt = Stopwatch.GetTimestamp();
                try
                {
                    var page = await service.ReadAsync("mci", grantId, new(), 0, 25, world.Dana, CancellationToken.None);
                    attempts.Enqueue(new Attempt(reader, startedAt, Stopwatch.GetTimestamp(), page, null));
                }
                catch (GrantStopped stopped)
                {
                    attempts.Enqueue(new Attempt(reader, startedAt, Stopwatch.GetTimestamp(), null, stopped.Message));
                }
            }
        })).ToArray();
        long returnedAt;
        try
        {
            await UntilAsync(readers, () => EveryReaderHas(attempts, a => a.Page?.Records.Count > 0), "every reader reads records before the switch");
            await flip();
            returnedAt = Stopwatch.GetTimestamp();
            await UntilAsync(readers, () => EveryReaderHas(attempts, a => a.StartedAt > returnedAt), "every reader reads after the switch");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers);
        }
        return (attempts.ToList(), returnedAt);
    }

    private static bool EveryReaderHas(ConcurrentQueue<Attempt> attempts, Func<Attempt, bool> which) =>
        attempts.Where(which).GroupBy(a => a.Reader).Count(reader => reader.Count() >= ReadsBeforeAndAfter) == Readers;

    private static async Task UntilAsync(Task[] readers, Func<bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (readers.FirstOrDefault(r => r.IsFaulted) is { } failed)
                await failed;
            if (Stopwatch.GetTimestamp() > deadline)
                Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(5);
        }
    }

    /// <summary>Every read in scope was committed before the switch: its events come earlier in the chain, and there were some.</summary>
    private static async Task AssertNoReadAfterAsync(TestDatabase db, string switchAction, Func<AuditEvent, bool> inScope)
    {
        await using var connection = await db.OpenAsync();
        var events = await connection.AuditEventsAsync();
        var flipped = events.Single(e => e.Action == switchAction).Seq;
        var reads = events.Where(e => e.Action == AuditActions.RecordsRead && inScope(e)).ToList();
        Assert.True(reads.Count(e => e.Seq < flipped) >= Readers * ReadsBeforeAndAfter, "the readers read in scope before the switch");
        Assert.DoesNotContain(reads, e => e.Seq > flipped);
    }
}
