namespace GovernancePortal.Programs;

public static class LegalBasis
{
    public const string Consent = "consent";
    public const string LegitimateInterest = "legitimate_interest";
    public const string LegalObligation = "legal_obligation";

    /// <summary>The legal basis as the employee's pages say it: "Legal basis: your consent".</summary>
    public static string InPlainWords(string basis) => basis switch
    {
        Consent => "your consent",
        LegitimateInterest => "the company's legitimate interest",
        LegalObligation => "a legal obligation",
        _ => basis.Replace('_', ' '),
    };
}

public static class ProgramState
{
    public const string Active = "active";
    public const string Paused = "paused";
    public const string Retired = "retired";
}

public sealed record MonitoringProgram
{
    public long Id { get; init; }
    public string Key { get; init; } = "";
    public string Name { get; init; } = "";
    public string Purpose { get; init; } = "";
    public string Owner { get; init; } = "";
    public string LegalBasis { get; init; } = "";
    public string State { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public IReadOnlyList<DataCategory> Categories { get; init; } = [];
}

public sealed record DataCategory
{
    public long Id { get; init; }
    public long ProgramId { get; init; }
    public string Key { get; init; } = "";
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public string Sensitivity { get; init; } = "";
    public int RetentionDays { get; init; }
    public bool Paused { get; init; }
    public DateTimeOffset? RetiredAt { get; init; }
}
