using GovernancePortal.Requests;
using GovernancePortal.Access;
using GovernancePortal.Programs;
using GovernancePortal.Subjects;
using MudBlazor;

namespace GovernancePortal.Web.Features.MyData;

/// <summary>
/// Stopping and re-joining as both of the employee's own pages (the overview and a program's detail page)
/// offer them: what may be offered, and the confirmation dialog with the one library call behind it. The
/// subject is always the signed-in person (<see cref="Actor.SubjectId"/>), never anything the client sends.
/// </summary>
public static class MyDataActions
{
    private static readonly DialogOptions Options = new() { MaxWidth = MaxWidth.Small, FullWidth = true };

    public static bool IsConsent(ProgramHoldings holding) => holding.Program.LegalBasis == LegalBasis.Consent;

    public static bool CanRevoke(ProgramHoldings holding) => !holding.RevokedByMe;

    public static bool CanRevoke(ProgramHoldings holding, CategoryHoldings category) => !category.RevokedByMe && category.Category.RetiredAt is null;

    /// <summary>Only consent can be given again; an objection is decided by the privacy officers.</summary>
    public static bool CanRejoin(ProgramHoldings holding) =>
        holding.RevokedByMe && IsConsent(holding) && holding.Program.State != ProgramState.Retired;

    /// <summary>One category, when it alone was stopped: a withdrawal of the whole program is re-joined as a whole.</summary>
    public static bool CanRejoin(ProgramHoldings holding, CategoryHoldings category) =>
        category.RevokedByMe && !holding.RevokedByMe && IsConsent(holding) && holding.Program.State != ProgramState.Retired && category.Category.RetiredAt is null;

    /// <summary>The person objected to the program or one of its categories (a program that does not rest on their consent).</summary>
    public static bool HasObjection(ProgramHoldings holding) =>
        !IsConsent(holding) && (holding.RevokedByMe || holding.Categories.Any(c => c.RevokedByMe));

    public static string RevokeLabel(ProgramHoldings holding) => IsConsent(holding) ? "Withdraw from this program" : "Object to this program";

    public const string ObjectionPending = "Your objection is with the privacy officers: they decide it and tell you why, under My requests.";

    /// <summary>Asks the person to confirm stopping the program (<paramref name="category"/> null) or one category, and does it if they do.</summary>
    public static async Task RevokeAsync(this IDialogService dialogs, Withdrawals withdrawals, Actor actor, ProgramHoldings holding, CategoryHoldings? category)
    {
        if (actor.SubjectId is not { } subjectId)
            return;
        var parameters = new DialogParameters<RevokeDialog>
        {
            { d => d.CategoryName, category?.Category.Name },
            { d => d.LegalBasis, holding.Program.LegalBasis },
            { d => d.Holds, holding.Holds },
            { d => d.OnRevoke, () => withdrawals.WithdrawAsync(subjectId, holding.Program.Key, category?.Category.Key, actor) },
        };
        var title = category is null ? $"Stop {holding.Program.Name}" : $"Stop collecting {category.Category.Name}";
        var dialog = await dialogs.ShowAsync<RevokeDialog>(title, parameters, Options);
        await dialog.Result;
    }

    /// <summary>Asks the person to confirm re-joining the program (<paramref name="category"/> null) or one category, and does it if they do.</summary>
    public static async Task RejoinAsync(this IDialogService dialogs, Revocations revocations, Actor actor, ProgramHoldings holding, CategoryHoldings? category)
    {
        if (actor.SubjectId is not { } subjectId)
            return;
        var parameters = new DialogParameters<RejoinDialog>
        {
            { d => d.ProgramName, holding.Program.Name },
            { d => d.CategoryName, category?.Category.Name },
            { d => d.Paused, holding.Program.State == ProgramState.Paused || category?.Category.Paused == true },
            { d => d.OnRejoin, () => revocations.RejoinAsync(subjectId, holding.Program.Key, category?.Category.Key, actor) },
        };
        var title = category is null ? $"Re-join {holding.Program.Name}" : $"Collect {category.Category.Name} again";
        var dialog = await dialogs.ShowAsync<RejoinDialog>(title, parameters, Options);
        await dialog.Result;
    }
}
