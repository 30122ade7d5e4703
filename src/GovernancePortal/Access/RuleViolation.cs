namespace GovernancePortal.Access;

/// <summary>A request the rules refuse; the message is written for the person who made it.</summary>
public sealed class RuleViolation(string message, string? field = null) : Exception(message)
{
    public string? Field { get; } = field;
}
