namespace GovernancePortal.Access;

/// <summary>
/// Maps identity-provider role or group values to portal roles (<c>Authentication:RoleMap:&lt;Role&gt;</c>,
/// a list or a comma-separated string). Everyone signed in is an Employee; nothing else is implied.
/// </summary>
public sealed class RoleMap
{
    private readonly IReadOnlyDictionary<string, string[]> _rolesByIdpValue;

    public RoleMap(IReadOnlyDictionary<string, IReadOnlyList<string>> idpValuesByRole)
    {
        foreach (var role in idpValuesByRole.Keys.Where(role => !Roles.All.Contains(role)))
            throw new Data.ConfigurationProblem($"Authentication:RoleMap:{role} is not a portal role; use one of {string.Join(", ", Roles.All)}.");
        _rolesByIdpValue = idpValuesByRole
            .SelectMany(pair => pair.Value.Select(value => (Value: value, Role: pair.Key)))
            .GroupBy(pair => pair.Value, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Select(pair => pair.Role).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The portal roles of someone whose identity provider asserts <paramref name="idpValues"/>.</summary>
    public IReadOnlySet<string> Map(IEnumerable<string> idpValues)
    {
        var roles = new HashSet<string>(StringComparer.Ordinal) { Roles.Employee };
        foreach (var value in idpValues)
        {
            if (_rolesByIdpValue.TryGetValue(value, out var mapped))
                roles.UnionWith(mapped);
        }
        return roles;
    }
}
