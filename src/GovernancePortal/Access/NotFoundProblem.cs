namespace GovernancePortal.Access;

/// <summary>The thing asked for does not exist, or is not this person's to see (the two are not told apart).</summary>
public sealed class NotFoundProblem(string message) : Exception(message);
