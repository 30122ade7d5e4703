namespace GovernancePortal.Subjects;

/// <summary>Why the portal refused a sign-in. The sign-in-failed page names it; nothing is signed in.</summary>
public enum SignInRefusal
{
    ProviderError,
    NoSubjectId,
    NoEmail,
    EmailUnverified,
    EmailBelongsToAnotherAccount,
    IdentityFromAnotherProvider,
    EmailHeldByAnotherSubject,
}

/// <summary>A sign-in that cannot be matched to a subject safely.</summary>
public sealed class SubjectProblem(SignInRefusal reason) : Exception(SignInRefusals.Describe(reason).Summary)
{
    public SignInRefusal Reason { get; } = reason;
}

/// <summary>What each refusal means to the person, and what they or an administrator can do about it.</summary>
public static class SignInRefusals
{
    public sealed record Description(string Summary, string WhatToDo);

    /// <summary>The refusal's name in the sign-in-failed page's address, e.g. <c>email-unverified</c>.</summary>
    public static string Code(SignInRefusal reason) => reason switch
    {
        SignInRefusal.ProviderError => "provider-error",
        SignInRefusal.NoSubjectId => "no-subject-id",
        SignInRefusal.NoEmail => "no-email",
        SignInRefusal.EmailUnverified => "email-unverified",
        SignInRefusal.EmailBelongsToAnotherAccount => "email-taken",
        SignInRefusal.IdentityFromAnotherProvider => "other-provider",
        SignInRefusal.EmailHeldByAnotherSubject => "email-held",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public static SignInRefusal? FromCode(string? code) =>
        Enum.GetValues<SignInRefusal>().Cast<SignInRefusal?>().FirstOrDefault(reason => Code(reason!.Value) == code);

    public static Description Describe(SignInRefusal reason) => reason switch
    {
        SignInRefusal.ProviderError => new(
            "The identity provider did not complete the sign-in, or its answer could not be checked.",
            "Try again. If it keeps failing, an administrator can find the provider's error in the portal's log."),
        SignInRefusal.NoSubjectId => new(
            "The identity provider sent no subject identifier, so the portal cannot tell who you are.",
            "An administrator must configure the provider to send the standard 'sub' claim."),
        SignInRefusal.NoEmail => new(
            "The identity provider sent no email address; the portal needs one to find the data collected about you.",
            "An administrator must allow the 'email' scope for the portal's client at the identity provider."),
        SignInRefusal.EmailUnverified => new(
            "The identity provider does not say that your email address is verified, so the portal will not link "
            + "you to the data collected under that address.",
            "Verify the address with your identity provider and sign in again. If the company manages every address "
            + "at this provider (as with Entra ID), an administrator can set Authentication:Oidc:EmailsAreVerified."),
        SignInRefusal.EmailBelongsToAnotherAccount => new(
            "Your email address belongs to another account, so the portal will not sign you in as that person.",
            "Ask a privacy officer or an administrator to check which account the address belongs to."),
        SignInRefusal.IdentityFromAnotherProvider => new(
            "Your account is linked to a sign-in at another identity provider.",
            "Sign in through the identity provider you used before, or ask an administrator to move the account."),
        SignInRefusal.EmailHeldByAnotherSubject => new(
            "Your identity provider now gives an email address that already holds another person's data; the portal "
            + "does not move your account to it.",
            "Ask a privacy officer to merge or correct the two records."),
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
