using System.Text.Json;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Collection;
using GovernancePortal.Data;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;

namespace GovernancePortal.Demo;

/// <summary>A demo user of the embedded default (docs/demo-data.md).</summary>
public sealed record DemoUser(string Email, string DisplayName, IReadOnlyList<string> Roles)
{
    /// <summary>The issuer of the demo identities: developer sign-in is the only way to sign in as one.</summary>
    public const string Issuer = "urn:governance-portal:developer-sign-in";

    public string ExternalId => "demo|" + Email;

    public SignedInPerson ToSignedInPerson() => new(Issuer, ExternalId, Email, EmailVerified: true, DisplayName);
}

/// <summary>
/// Seeds the demo programs, users, dana's grant and some weeks of encrypted records for alice and
/// bob. Runs once: a database that already has the program <c>mci</c> is left alone.
/// </summary>
public sealed class DemoData(ConnectionFactory connections, SubjectDirectory subjects, RoleRoster roster, RecordStore records, AuditLog audit, TimeProvider time)
{
    public const int Weeks = 4;

    public static readonly IReadOnlyList<DemoUser> Users =
    [
        new("alice@example.com", "Alice Martin", [Roles.Employee]),
        new("bob@example.com", "Bob Chen", [Roles.Employee]),
        new("priya@example.com", "Priya Raman", [Roles.PrivacyOfficer, Roles.Employee]),
        new("omar@example.com", "Omar Haddad", [Roles.PrivacyOfficer, Roles.Employee]),
        new("audrey@example.com", "Audrey Novak", [Roles.Auditor, Roles.Employee]),
        new("dana@example.com", "Dana Okafor", [Roles.DataConsumer, Roles.Employee]),
        new("admin@example.com", "Portal Admin", [Roles.Admin, Roles.Employee]),
    ];

    public static DemoUser? FindUser(string email) =>
        Users.FirstOrDefault(user => string.Equals(user.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));

    private const string InsertProgram = $"""
        INSERT INTO programs (key, name, purpose, owner, legal_basis, state, created_at, updated_at)
        VALUES (@Key, @Name, @Purpose, @Owner, @LegalBasis, '{ProgramState.Active}', @Now, @Now)
        RETURNING id
        """;

    private const string InsertCategory = """
        INSERT INTO categories (program_id, key, name, description, sensitivity, retention_days, created_at)
        VALUES (@ProgramId, @Key, @Name, @Description, @Sensitivity, @RetentionDays, @Now)
        RETURNING id
        """;

    private const string InsertGrant = """
        INSERT INTO grants (principal_kind, principal, principal_subject_id, program_id, purpose, justification, requested_by, requested_at, approved_by, approved_at, expires_at)
        VALUES ('user', @Principal, @PrincipalSubjectId, @ProgramId, @Purpose, @Justification, @RequestedBy, @RequestedAt, @ApprovedBy, @Now, @ExpiresAt)
        RETURNING id
        """;

    private const string DemoSeeded = "SELECT count(*) FROM programs WHERE key = 'mci'";

    private const string InsertGrantCategory = "INSERT INTO grant_categories (grant_id, category_id) VALUES (@GrantId, @CategoryId)";

    private const string InsertReview = """
        INSERT INTO grant_reviews (grant_id, officer, officer_subject_id, decision, note, decided_at)
        VALUES (@GrantId, @Officer, @OfficerSubjectId, 'approve', @Note, @Now)
        """;

    /// <summary>The purpose of dana's grant (docs/demo-data.md).</summary>
    public const string DanaPurpose = "model-training: evaluate the typing assistant's suggestions against real typing and pointer use";

    /// <summary>Returns false when the demo data was already there.</summary>
    public async Task<bool> SeedAsync(CancellationToken cancellationToken = default)
    {
        await using (var connection = await connections.OpenAsync(cancellationToken))
        {
            if (await connection.ExecuteScalarAsync<long>(DemoSeeded) > 0)
                return false;
        }

        var now = StoredTime.Normalize(time.GetUtcNow());
        var subjectIds = new Dictionary<string, long>();
        foreach (var user in Users)
        {
            var subject = await subjects.RecordSignInAsync(user.ToSignedInPerson(), cancellationToken);
            subjectIds[user.Email] = subject.Id;
        }

        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        if (await scope.ExecuteScalarAsync<long>(DemoSeeded) > 0)
            return false;
        foreach (var user in Users)
            await roster.RecordAsync(scope, subjectIds[user.Email], user.Roles);

        var programStart = now.AddDays(-7 * Weeks - 14);
        var mci = await scope.ExecuteScalarAsync<long>(InsertProgram, new
        {
            Key = "mci",
            Name = "Model Capability Initiative",
            Purpose = "Collect examples of everyday work to train and evaluate the company's AI assistants.",
            Owner = "AI Platform team",
            LegalBasis = LegalBasis.Consent,
            Now = programStart,
        });
        var mciCategories = new Dictionary<string, long>
        {
            ["keystrokes"] = await AddCategory(mci, "keystrokes", "Keystrokes", "Typed text with the active window's title.", "high", 90),
            ["mouse_movements"] = await AddCategory(mci, "mouse_movements", "Mouse movements", "Pointer movement, clicks and idle time per minute.", "low", 30),
            ["transcriptions"] = await AddCategory(mci, "transcriptions", "Meeting transcriptions", "Snippets of meeting audio turned into text.", "special", 60),
            ["performance_data"] = await AddCategory(mci, "performance_data", "Performance data", "Daily work metrics and the score derived from them.", "high", 365),
        };

        var endpoint = await scope.ExecuteScalarAsync<long>(InsertProgram, new
        {
            Key = "endpoint-security",
            Name = "Endpoint security monitoring",
            Purpose = "Detect malware and intrusions on company laptops.",
            Owner = "Security Operations",
            LegalBasis = LegalBasis.LegitimateInterest,
            Now = programStart,
        });
        var processEvents = await AddCategory(endpoint, "process_events", "Process events", "Programs started and stopped on the laptop.", "medium", 180);

        var grantId = await scope.ExecuteScalarAsync<long>(InsertGrant, new
        {
            Principal = "dana@example.com",
            PrincipalSubjectId = subjectIds["dana@example.com"],
            ProgramId = mci,
            Purpose = DanaPurpose,
            Justification = "Suggestions are tuned on keystrokes and pointer movement only; no transcriptions or performance data are needed.",
            RequestedBy = "dana@example.com",
            RequestedAt = now.AddDays(-3),
            ApprovedBy = "priya@example.com",
            Now = now.AddDays(-2),
            ExpiresAt = now.AddDays(60),
        });
        foreach (var key in new[] { "keystrokes", "mouse_movements" })
            await scope.ExecuteAsync(InsertGrantCategory, new { GrantId = grantId, CategoryId = mciCategories[key] });
        await scope.ExecuteAsync(InsertReview, new
        {
            GrantId = grantId, Officer = "priya@example.com", OfficerSubjectId = subjectIds["priya@example.com"],
            Note = "Approved for keystrokes and mouse movements; ask again for anything more.", Now = now.AddDays(-2),
        });

        var random = new Random(20261127);
        foreach (var email in new[] { "alice@example.com", "bob@example.com" })
        {
            var subjectId = subjectIds[email];
            var name = Users.First(u => u.Email == email).DisplayName.Split(' ')[0];
            await records.AddAsync(scope, WorkRecords(random, name, subjectId, mci, mciCategories, endpoint, processEvents, now).ToList());
        }

        await audit.AppendAsync(scope, new AuditEntry(Actor.System.Name, [], AuditActions.DemoSeeded,
            Detail: "Demo programs, users, a grant and records were created."));
        await scope.CommitAsync();
        return true;

        Task<long> AddCategory(long programId, string key, string name, string description, string sensitivity, int retentionDays) =>
            scope.ExecuteScalarAsync<long>(InsertCategory, new
            {
                ProgramId = programId, Key = key, Name = name, Description = description,
                Sensitivity = sensitivity, RetentionDays = retentionDays, Now = programStart,
            });
    }

    private static IEnumerable<NewRecord> WorkRecords(Random random, string firstName, long subjectId, long mci,
        IReadOnlyDictionary<string, long> categories, long endpoint, long processEvents, DateTimeOffset now)
    {
        var host = $"LT-{firstName.ToUpperInvariant()}-01";
        for (var day = now.Date.AddDays(-7 * Weeks); day < now.Date; day = day.AddDays(1))
        {
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
                continue;
            var start = new DateTimeOffset(day, TimeSpan.Zero).AddHours(8);

            for (var i = 0; i < 10; i++)
            {
                var (app, window, text) = Pick(random, Typing);
                yield return Record(categories["keystrokes"], At(random, start), new { app, window, text = text.Replace("{name}", firstName), keys = text.Length + random.Next(0, 40) });
            }
            for (var i = 0; i < 8; i++)
            {
                var (app, window, _) = Pick(random, Typing);
                yield return Record(categories["mouse_movements"], At(random, start), new
                {
                    app, window, moves = random.Next(40, 600), clicks = random.Next(0, 40),
                    distancePx = random.Next(2_000, 40_000), idleSeconds = random.Next(0, 60),
                });
            }
            for (var i = 0; i < 3; i++)
            {
                var (meeting, line) = Pick(random, Meetings);
                yield return Record(categories["transcriptions"], At(random, start), new
                {
                    meeting, speaker = firstName, text = line, durationSeconds = random.Next(8, 60), confidence = Math.Round(0.75 + random.NextDouble() * 0.24, 2),
                });
            }
            var tickets = random.Next(3, 22);
            yield return Record(categories["performance_data"], start.AddHours(9.5), new
            {
                period = day.ToString("yyyy-MM-dd"), ticketsClosed = tickets, activeMinutes = random.Next(280, 470),
                focusScore = Math.Round(0.4 + random.NextDouble() * 0.6, 2), rank = random.Next(1, 40),
            });
            for (var i = 0; i < 6; i++)
            {
                var process = ProcessNames[random.Next(ProcessNames.Length)];
                yield return new NewRecord(endpoint, processEvents, subjectId, At(random, start), JsonSerializer.Serialize(new
                {
                    host, process, @event = random.Next(3) == 0 ? "stop" : "start", pid = random.Next(1_000, 65_000),
                    signed = random.Next(10) != 0,
                }));
            }
        }

        NewRecord Record(long categoryId, DateTimeOffset capturedAt, object payload) =>
            new(mci, categoryId, subjectId, capturedAt, JsonSerializer.Serialize(payload));
    }

    private static DateTimeOffset At(Random random, DateTimeOffset workdayStart) =>
        workdayStart.AddSeconds(random.Next(0, 9 * 3600));

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static readonly string[] ProcessNames = ["outlook.exe", "teams.exe", "chrome.exe", "excel.exe", "code.exe", "slack.exe", "powershell.exe", "zoom.exe"];

    private static readonly (string App, string Window, string Text)[] Typing =
    [
        ("outlook.exe", "Inbox - Outlook", "Hi Sam, the Q3 numbers look fine to me, can we talk about the forecast tomorrow?"),
        ("outlook.exe", "RE: Doctor appointment - Outlook", "I need to leave at 3 today for a doctor's appointment, back online tonight."),
        ("teams.exe", "Chat | Jordan - Microsoft Teams", "honestly I think the reorg is a mess, don't tell anyone I said that"),
        ("teams.exe", "Chat | Team standup - Microsoft Teams", "blocked on the API review, will pick up the invoice bug next"),
        ("excel.exe", "Budget 2027 draft.xlsx - Excel", "=SUM(B2:B48) travel marketing contractors"),
        ("chrome.exe", "Jira - SUP-4821 Customer cannot reset password", "Reproduced on staging; the reset token expires after 5 minutes instead of 60."),
        ("chrome.exe", "Workday - Benefits enrollment", "dependent: child, date of birth 2019-04-12"),
        ("code.exe", "InvoiceService.cs - Visual Studio Code", "if (invoice.DueDate < today) throw new OverdueException(invoice.Id);"),
        ("slack.exe", "#random - Slack", "anyone up for lunch at the Thai place? {name} is buying"),
        ("chrome.exe", "Gmail - Personal", "Mum, I'll call you on Sunday about the flat viewing"),
    ];

    private static readonly (string Meeting, string Line)[] Meetings =
    [
        ("Weekly team sync", "I can take the migration ticket but I'll need help with the rollback plan."),
        ("1:1 with manager", "I've been struggling a bit since the move, sleep has been rough."),
        ("Customer call - Northwind", "We can offer the discount if they commit to two years."),
        ("Sprint planning", "Let's keep the scope small; the last sprint overran by four days."),
        ("Incident review", "The alert fired at 02:14 but nobody was paged until 02:40."),
        ("1:1 with manager", "I'd like to talk about the promotion criteria, they feel unclear."),
    ];
}
