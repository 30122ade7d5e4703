namespace GovernancePortal.Access;

/// <summary>A request the rules refuse; the message is written for the person who made it.</summary>
public sealed class RuleViolation(string message, string? field = null) : Exception(message)
{
    public string? Field { get; } = field;

    /// <summary>The trimmed text of a required field, or a violation: <paramref name="missing"/> when it is blank, a length limit when it is too long.</summary>
    public static string RequireText(string? value, string field, string missing, int maxLength)
    {
        var text = (value ?? "").Trim();
        if (text.Length == 0)
            throw new RuleViolation(missing, field);
        if (text.Length > maxLength)
            throw new RuleViolation($"Keep it under {maxLength} characters.", field);
        return text;
    }
}
