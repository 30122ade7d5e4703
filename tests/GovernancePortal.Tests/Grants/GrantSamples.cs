using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Collection;
using GovernancePortal.Grants;
using GovernancePortal.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GovernancePortal.Tests.Grants;

/// <summary>
/// A program <c>mci</c> (keystrokes high, transcriptions special) and <c>other</c>, two data consumers, two
/// privacy officers known to the roster, and records of alice and bob in both categories.
/// </summary>
public sealed record GrantWorld(SampleProgram Mci, SampleProgram Other, Actor Dana, Actor Erin, Actor Priya, Actor Omar, long Alice, long Bob)
{
    public const int RecordsPerPersonAndCategory = 6;

    public static async Task<GrantWorld> CreateAsync(TestDatabase db)
    {
        var mci = await SampleData.ProgramAsync(db, "mci", "keystrokes", "transcriptions");
        var other = await SampleData.ProgramAsync(db, "other", "keystrokes");
        await using (var connection = await db.OpenAsync())
            await connection.ExecuteAsync("UPDATE categories SET sensitivity = 'special' WHERE id = @Id", new { Id = mci["transcriptions"] });
        var roster = db.Get<RoleRoster>();
        async Task<Actor> PersonAsync(string email, params string[] roles)
        {
            var id = await SampleData.SubjectAsync(db, email);
            await roster.RecordAsync(id, roles);
            return new Actor(email, roles, id);
        }
        var dana = await PersonAsync("dana@example.com", Roles.DataConsumer, Roles.Employee);
        var erin = await PersonAsync("erin@example.com", Roles.DataConsumer, Roles.Employee);
        var priya = await PersonAsync("priya@example.com", Roles.PrivacyOfficer, Roles.Employee);
        var omar = await PersonAsync("omar@example.com", Roles.PrivacyOfficer, Roles.Employee);
        var alice = await PersonAsync("alice@example.com", Roles.Employee);
        var bob = await PersonAsync("bob@example.com", Roles.Employee);
        var records = new List<NewRecord>();
        foreach (var subject in new[] { alice.SubjectId!.Value, bob.SubjectId!.Value })
            foreach (var category in new[] { "keystrokes", "transcriptions" })
                for (var i = 0; i < RecordsPerPersonAndCategory; i++)
                    records.Add(new NewRecord(mci.Id, mci[category], subject, SampleData.Epoch.AddHours(i + 1), $$"""{"i":{{i}},"text":"{{category}} of {{subject}}"}"""));
        records.Add(new NewRecord(other.Id, other["keystrokes"], alice.SubjectId.Value, SampleData.Epoch.AddHours(1), """{"other":true}"""));
        await SampleData.AddRecordsAsync(db, records.ToArray());
        return new GrantWorld(mci, other, dana, erin, priya, omar, alice.SubjectId.Value, bob.SubjectId.Value);
    }

    public const string Purpose = "Evaluate the typing assistant's suggestions against real typing";

    public static GrantAsk Ask(params string[] categories) =>
        new("mci", categories, Purpose, "Only typing shows whether the suggestions help.", DateTimeOffset.UtcNow.AddDays(30));

    /// <summary>dana's active grant on <paramref name="categories"/> of mci, approved by priya (and omar when it needs two).</summary>
    public async Task<long> ActiveGrantAsync(IServiceProvider services, params string[] categories)
    {
        var desk = services.GetRequiredService<GrantDesk>();
        var id = await desk.AskAsync(Ask(categories), Dana);
        var outcome = await desk.ReviewAsync(id, approve: true, "Approved for the evaluation", Priya);
        if (outcome.Status != GrantStatus.Active)
            await desk.ReviewAsync(id, approve: true, "Second approval", Omar);
        return id;
    }
}
