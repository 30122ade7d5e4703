using System.Globalization;
using System.Text.RegularExpressions;

namespace GovernancePortal.Audit;

/// <summary>
/// The detail of an event that read or exported someone's records: which categories, under which grant.
/// Written as <c>categories: keystrokes, transcriptions; grant 7</c> (docs/audit-log.md); what follows may
/// add more, separated by <c>;</c>. The writer and the reader are here together, so that the access history
/// and the export read exactly what the grants write.
/// </summary>
public sealed partial record RecordAccessDetail(IReadOnlyList<string> Categories, long? GrantId)
{
    public string Write()
    {
        var parts = new List<string>();
        if (Categories.Count > 0)
            parts.Add("categories: " + string.Join(", ", Categories));
        if (GrantId is { } grant)
            parts.Add("grant " + grant.ToString(CultureInfo.InvariantCulture));
        return string.Join("; ", parts);
    }

    /// <summary>What a detail names; an event of another kind (or free text) names no category and no grant.</summary>
    public static RecordAccessDetail Read(string? detail)
    {
        if (string.IsNullOrEmpty(detail))
            return new([], null);
        var categories = CategoriesPattern().Match(detail) is { Success: true } match
            ? match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        long? grant = GrantPattern().Match(detail) is { Success: true } found
            && long.TryParse(found.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        return new(categories, grant);
    }

    [GeneratedRegex(@"(?:^|;)\s*categories:\s*([^;]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CategoriesPattern();

    [GeneratedRegex(@"\bgrant\s+#?(\d+)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GrantPattern();
}
