namespace GovernancePortal.Subjects;

public sealed record Subject
{
    public long Id { get; init; }
    public string? ExternalId { get; init; }
    public string? ExternalIssuer { get; init; }
    public string? Email { get; init; }
    public string DisplayName { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastSignInAt { get; init; }
}

/// <summary>
/// The person who signed in, as the identity provider describes them. Their identity is
/// <see cref="Issuer"/> and <see cref="ExternalId"/> together; <see cref="EmailVerified"/> is whether the
/// provider (or the configuration, for a provider whose addresses the company manages) vouches for the email.
/// </summary>
public sealed record SignedInPerson(string Issuer, string ExternalId, string Email, bool EmailVerified, string DisplayName);
