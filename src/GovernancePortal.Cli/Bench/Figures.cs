namespace GovernancePortal.Cli.Bench;

/// <summary>What the benchmarks report of several rounds.</summary>
internal static class Figures
{
    /// <summary>The middle value; the mean of the two middle ones for an even count.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
