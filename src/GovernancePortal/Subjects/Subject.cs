namespace GovernancePortal.Subjects;

public sealed record Subject
{
    public long Id { get; init; }
    public string? ExternalId { get; init; }
    public string? Email { get; init; }
    public string DisplayName { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastSignInAt { get; init; }
}

/// <summary>The person who signed in, as the identity provider describes them.</summary>
public sealed record SignedInPerson(string ExternalId, string Email, string DisplayName);
