using System.Text;

namespace GovernancePortal.Crypto;

/// <summary>The scope one data key covers: one subject's records of one category of one program.</summary>
public readonly record struct DataKeyScope(long SubjectId, long ProgramId, long CategoryId)
{
    internal byte[] WrapAssociatedData() => Encoding.UTF8.GetBytes($"gp-data-key/v1/{SubjectId}/{ProgramId}/{CategoryId}");
}

/// <summary>An unwrapped data key; its bytes never leave the process.</summary>
public sealed record DataKey(long Id, DataKeyScope Scope, byte[] Key);
