using System.Text.RegularExpressions;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Audit;
using GovernancePortal.Data;

namespace GovernancePortal.Programs;

public sealed record ProgramDraft(string Key, string Name, string Purpose, string Owner, string LegalBasis);

public sealed record CategoryDraft(string Key, string Name, string Description, string Sensitivity, int RetentionDays);

public static class Sensitivity
{
    public static readonly IReadOnlyList<string> All = ["low", "medium", "high", "special"];
}

/// <summary>Privacy officers keep the register: programs and their data categories. Every change is audited.</summary>
public sealed partial class ProgramEditor(ConnectionFactory connections, ProgramQueries programs, AuditLog audit, TimeProvider time)
{
    public const int MaxRetentionDays = 3_650;

    private const string OfficersOnly = "Only privacy officers change the program register.";

    public static readonly IReadOnlyList<string> LegalBases = [LegalBasis.Consent, LegalBasis.LegitimateInterest, LegalBasis.LegalObligation];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex ProgramKeyPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex CategoryKeyPattern();

    public async Task<MonitoringProgram> RegisterAsync(ProgramDraft draft, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        var clean = Validate(draft);
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        if (await scope.ExecuteScalarAsync<long>("SELECT count(*) FROM programs WHERE key = @Key", new { clean.Key }) > 0)
            throw new RuleViolation($"A program with the key '{clean.Key}' exists already.", "key");
        var now = StoredTime.Normalize(time.GetUtcNow());
        await scope.ExecuteAsync("""
            INSERT INTO programs (key, name, purpose, owner, legal_basis, state, created_at, updated_at)
            VALUES (@Key, @Name, @Purpose, @Owner, @LegalBasis, @State, @Now, @Now)
            """, new { clean.Key, clean.Name, clean.Purpose, clean.Owner, clean.LegalBasis, State = ProgramState.Active, Now = now });
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, AuditActions.ProgramRegistered,
            Program: clean.Key, Detail: $"{clean.Name}; legal basis {clean.LegalBasis}; purpose: {clean.Purpose}"));
        await scope.CommitAsync();
        return (await programs.GetAsync(clean.Key, cancellationToken))!;
    }

    /// <summary>Changes name, purpose, owner and legal basis; the key never changes (collectors and exports name it).</summary>
    public async Task UpdateAsync(string programKey, ProgramDraft draft, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        var clean = Validate(draft with { Key = programKey });
        await WriteAsync(programKey, actor, AuditActions.ProgramUpdated, $"{clean.Name}; legal basis {clean.LegalBasis}; owner {clean.Owner}; purpose: {clean.Purpose}",
            (scope, program, now) => scope.ExecuteAsync("""
                UPDATE programs SET name = @Name, purpose = @Purpose, owner = @Owner, legal_basis = @LegalBasis, updated_at = @Now WHERE id = @Id
                """, new { program.Id, clean.Name, clean.Purpose, clean.Owner, clean.LegalBasis, Now = now }),
            cancellationToken);
    }

    /// <summary>Retires a program: collection stops for good; its records stay until retention or erasure removes them.</summary>
    public Task RetireAsync(string programKey, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        return WriteAsync(programKey, actor, AuditActions.ProgramRetired, "collection ended",
            (scope, program, now) => scope.ExecuteAsync(
                "UPDATE programs SET state = @State, updated_at = @Now WHERE id = @Id", new { program.Id, State = ProgramState.Retired, Now = now }),
            cancellationToken);
    }

    public Task AddCategoryAsync(string programKey, CategoryDraft draft, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        var clean = Validate(draft);
        return WriteAsync(programKey, actor, AuditActions.CategoryAdded, $"{clean.Key}: {clean.Name}; sensitivity {clean.Sensitivity}; kept {clean.RetentionDays} days",
            async (scope, program, now) =>
            {
                if (program.Categories.Any(c => c.Key == clean.Key))
                    throw new RuleViolation($"The program has a category '{clean.Key}' already.", "key");
                await scope.ExecuteAsync("""
                    INSERT INTO categories (program_id, key, name, description, sensitivity, retention_days, created_at)
                    VALUES (@ProgramId, @Key, @Name, @Description, @Sensitivity, @RetentionDays, @Now)
                    """, new { ProgramId = program.Id, clean.Key, clean.Name, clean.Description, clean.Sensitivity, clean.RetentionDays, Now = now });
            },
            cancellationToken);
    }

    public Task UpdateCategoryAsync(string programKey, string categoryKey, CategoryDraft draft, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        var clean = Validate(draft with { Key = categoryKey });
        return WriteAsync(programKey, actor, AuditActions.CategoryUpdated, $"{clean.Key}: {clean.Name}; sensitivity {clean.Sensitivity}; kept {clean.RetentionDays} days",
            async (scope, program, _) =>
            {
                var category = program.Categories.FirstOrDefault(c => c.Key == categoryKey) ?? throw new NotFoundProblem($"The program has no category '{categoryKey}'.");
                await scope.ExecuteAsync("""
                    UPDATE categories SET name = @Name, description = @Description, sensitivity = @Sensitivity, retention_days = @RetentionDays WHERE id = @Id
                    """, new { category.Id, clean.Name, clean.Description, clean.Sensitivity, clean.RetentionDays });
            },
            cancellationToken);
    }

    public Task RetireCategoryAsync(string programKey, string categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        actor.Require(Roles.PrivacyOfficer, OfficersOnly);
        return WriteAsync(programKey, actor, AuditActions.CategoryRetired, categoryKey,
            async (scope, program, now) =>
            {
                var category = program.Categories.FirstOrDefault(c => c.Key == categoryKey) ?? throw new NotFoundProblem($"The program has no category '{categoryKey}'.");
                if (category.RetiredAt is not null)
                    throw new RuleViolation("This category is retired already.");
                await scope.ExecuteAsync("UPDATE categories SET retired_at = @Now WHERE id = @Id", new { category.Id, Now = now });
            },
            cancellationToken);
    }

    /// <summary>One audited change of a program, under the program's row lock (which also orders it with collection).</summary>
    private async Task WriteAsync(string programKey, Actor actor, string action, string detail,
        Func<WriteScope, MonitoringProgram, DateTimeOffset, Task> change,
        CancellationToken cancellationToken)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var program = await programs.RequireAsync(scope, programKey, RowLock.Update);
        if (program.State == ProgramState.Retired)
            throw new RuleViolation(action == AuditActions.ProgramRetired ? "The program is retired already." : "The program is retired; it can no longer be changed.");
        var now = StoredTime.Normalize(time.GetUtcNow());
        await change(scope, program, now);
        await audit.AppendAsync(scope, new AuditEntry(actor.Name, actor.Roles, action, Program: programKey, Detail: detail));
        await scope.CommitAsync();
    }

    private static ProgramDraft Validate(ProgramDraft draft)
    {
        var key = (draft.Key ?? "").Trim();
        if (!ProgramKeyPattern().IsMatch(key))
            throw new RuleViolation("The key is 1 to 63 lower-case letters, digits or dashes, starting with a letter or digit (for example 'mci').", "key");
        var legalBasis = (draft.LegalBasis ?? "").Trim();
        if (!LegalBases.Contains(legalBasis))
            throw new RuleViolation("Choose the legal basis: consent, legitimate interest or legal obligation.", "legalBasis");
        return new ProgramDraft(key, Required(draft.Name, "name", 200), Required(draft.Purpose, "purpose", 2_000), Required(draft.Owner, "owner", 200), legalBasis);
    }

    private static CategoryDraft Validate(CategoryDraft draft)
    {
        var key = (draft.Key ?? "").Trim();
        if (!CategoryKeyPattern().IsMatch(key))
            throw new RuleViolation("The key is 1 to 63 lower-case letters, digits, dashes or underscores (for example 'keystrokes').", "key");
        var sensitivity = (draft.Sensitivity ?? "").Trim();
        if (!Sensitivity.All.Contains(sensitivity))
            throw new RuleViolation("Choose the sensitivity: low, medium, high or special (special categories of personal data).", "sensitivity");
        if (draft.RetentionDays is < 1 or > MaxRetentionDays)
            throw new RuleViolation($"Retention is between 1 and {MaxRetentionDays} days.", "retentionDays");
        var description = (draft.Description ?? "").Trim();
        if (description.Length > 2_000)
            throw new RuleViolation("Keep the description under 2000 characters.", "description");
        return new CategoryDraft(key, Required(draft.Name, "name", 200), description, sensitivity, draft.RetentionDays);
    }

    private static string Required(string? value, string field, int maxLength)
    {
        var text = (value ?? "").Trim();
        if (text.Length == 0)
            throw new RuleViolation($"The {field} is required.", field);
        if (text.Length > maxLength)
            throw new RuleViolation($"Keep the {field} under {maxLength} characters.", field);
        return text;
    }
}
