namespace GovernancePortal.Access;

/// <summary>Who performs an action, as the audit log records them: a person's email, or a named tool.</summary>
public sealed record Actor(string Name, IReadOnlyCollection<string> Roles, long? SubjectId = null)
{
    public static readonly Actor System = new("system", []);

    public bool IsIn(string role) => Roles.Contains(role);

    /// <summary>Refuses the action, with <paramref name="refusal"/> as the reason, unless the actor holds <paramref name="role"/>.</summary>
    public void Require(string role, string refusal)
    {
        if (!IsIn(role))
            throw new RuleViolation(refusal);
    }
}
