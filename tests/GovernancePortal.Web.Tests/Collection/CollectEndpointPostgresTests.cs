using System.Net;
using GovernancePortal.Collection;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using GovernancePortal.Testing;
using GovernancePortal.Web.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static GovernancePortal.Web.Tests.Collection.CollectApi;

namespace GovernancePortal.Web.Tests.Collection;

/// <summary>The collection API on PostgreSQL, as production runs it: the same answers, and a 503 while the database is away.</summary>
public sealed class CollectEndpointPostgresTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Collect_OnPostgres_StoresForTheEmployee_RefusesAReusedKeyAndWhilePaused_AndReportsTheState()
    {
        await using var portal = PortalFactory.For(Engine.Postgres);
        await portal.InitializeAsync();
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        var pauses = portal.Services.GetRequiredService<PauseSwitch>();

        var body = Array(Record("alice@example.com", "keystrokes"), Record("alice@example.com", "screen_text"));
        using var accepted = await collector.PostAsync(body, idempotencyKey: "pg-1");
        using var retried = await collector.PostAsync(body, idempotencyKey: "pg-1");
        using var reused = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "pg-1");
        var pause = await pauses.PauseAsync(program.Key, [], "Leak", Priya, Cancellation);
        using var paused = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")));
        using var status = await collector.GetAsync(StatusPath, Cancellation);
        await pauses.ResumeAsync(program.Key, pause.Id, "Closed", Omar, Cancellation);
        using var resumed = await collector.PostAsync("", "application/x-ndjson");

        await AnswerIsAsync(accepted, 1, (1, RejectReason.UnknownCategory));
        await AnswerIsAsync(retried, 1, (1, RejectReason.UnknownCategory));
        await ProblemAsync(reused, (HttpStatusCode)422);
        await ProblemAsync(paused, HttpStatusCode.Locked);
        Assert.Equal($$"""{"program":"{{program.Key}}","state":"paused","pausedCategories":[]}""", await status.Content.ReadAsStringAsync(Cancellation));
        await AnswerIsAsync(resumed, 0);
        Assert.Equal(1, await RecordsAsync(portal, program));
        var alice = await SubjectIdAsync(portal, "alice@example.com");
        Assert.Equal(1, (await portal.Database.Get<MyDataSummary>().ForSubjectAsync(alice, Cancellation)).Single(h => h.Program.Key == program.Key).RecordCount);
    }

    [Fact]
    public async Task Collect_WhilePostgresRefusesConnections_Is503WithRetryAfter_AndWorksAgainOnceItIsBack()
    {
        await using var portal = PortalFactory.For(Engine.Postgres);
        await portal.InitializeAsync();
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);
        using (var before = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes"))))
            await AnswerIsAsync(before, 1);
        var database = new NpgsqlConnectionStringBuilder(portal.Database.ConnectionString).Database!;

        await AdministerAsync(portal, $"ALTER DATABASE {database} ALLOW_CONNECTIONS false",
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()");
        HttpResponseMessage first, second, status;
        try
        {
            first = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "while-down");
            second = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "while-down");
            status = await collector.GetAsync(StatusPath, Cancellation);
        }
        finally
        {
            await AdministerAsync(portal, $"ALTER DATABASE {database} ALLOW_CONNECTIONS true");
        }
        using var back = await collector.PostAsync(Array(Record("alice@example.com", "keystrokes")), idempotencyKey: "while-down");

        foreach (var down in new[] { first, second, status })
        {
            using (down)
            {
                await ProblemAsync(down, HttpStatusCode.ServiceUnavailable);
                Assert.NotNull(down.Headers.RetryAfter?.Delta);
            }
        }
        await AnswerIsAsync(back, 1);
        // A connection of its own: the test's pooled ones were terminated with the portal's.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(portal.Database.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(Cancellation);
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM records WHERE program_id = {program.Id}", connection);
        Assert.Equal(2L, await count.ExecuteScalarAsync(Cancellation));
    }

    [Fact]
    public async Task Collect_OnPostgres_SubjectWithANulCharacter_IsNotTakenForADatabaseOutage()
    {
        await using var portal = PortalFactory.For(Engine.Postgres);
        await portal.InitializeAsync();
        var program = await ProgramAsync(portal);
        using var collector = portal.Collector(program.Token);

        using var response = await collector.PostAsync(Array(Record("mallory\u0000@example.com", "keystrokes"), Record("alice@example.com", "keystrokes")));

        await AnswerIsAsync(response, 1, (0, RejectReason.InvalidRecord));
    }

    /// <summary>Runs statements as the server's administrator, from its maintenance database.</summary>
    private static async Task AdministerAsync(PortalFactory portal, params string[] statements)
    {
        var admin = new NpgsqlConnectionStringBuilder(portal.Database.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(Cancellation);
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(Cancellation);
        }
    }
}
