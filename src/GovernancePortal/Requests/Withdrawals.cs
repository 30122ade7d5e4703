using GovernancePortal.Access;
using GovernancePortal.Data;
using GovernancePortal.Erasure;
using GovernancePortal.Subjects;

namespace GovernancePortal.Requests;

/// <summary>
/// What an employee does with "Stop" on their own page: revoke (the revocation's rules are
/// <see cref="Revocations"/>'), and in the same scope file what follows — an erasure request when they
/// withdraw consent, an objection for an officer to review when the program rests on legitimate
/// interest. Doing it twice is one revocation and one request.
/// </summary>
public sealed class Withdrawals(ConnectionFactory connections, Revocations revocations, RequestDesk requests, IErasureQueue erasure)
{
    private const string ActiveHolds = """
        SELECT notice FROM legal_holds
        WHERE released_at IS NULL
          AND (subject_id = @SubjectId OR subject_id IS NULL)
          AND (program_id = @ProgramId OR program_id IS NULL)
        ORDER BY placed_at
        """;

    /// <summary>Revokes and files the follow-up request; returns both and the legal holds that keep data from erasure.</summary>
    public async Task<WithdrawalOutcome> WithdrawAsync(long subjectId, string programKey, string? categoryKey, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var scope = await connections.BeginWriteAsync(cancellationToken);
        var revoked = await revocations.RevokeAsync(scope, subjectId, programKey, categoryKey, actor);
        var followUpKind = revoked.Revocation.Kind == RevocationKind.Withdrawal ? RequestKind.Erasure : RequestKind.Objection;
        var followUp = await requests.SubmitAsync(scope, subjectId, followUpKind, programKey, categoryKey, actor);
        var holds = await scope.QueryAsync<string>(ActiveHolds, new { SubjectId = subjectId, ProgramId = revoked.Program.Id });
        await scope.CommitAsync();
        if (followUp.Kind == RequestKind.Erasure)
            erasure.SweepSoon();
        return new WithdrawalOutcome(revoked.Revocation, followUp, holds);
    }
}

/// <summary>A revocation, the request it filed, and the legal holds that keep data from erasure (their reasons).</summary>
public sealed record WithdrawalOutcome(Revocation Revocation, DataRequest FollowUp, IReadOnlyList<string> LegalHolds);
