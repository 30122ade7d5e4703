using GovernancePortal.Access;

namespace GovernancePortal.Web.Tests.Authorization;

/// <summary>
/// Who may use a route: anyone, anyone signed in, the holders of one of some roles, or only a caller
/// with a credential other than a portal session (a collector's bearer token).
/// </summary>
public sealed record Who
{
    private Who(string description, bool anonymous, IReadOnlyList<string>? roles, bool otherCredential = false)
    {
        Description = description;
        Anonymous = anonymous;
        Roles = roles;
        OtherCredential = otherCredential;
    }

    public static readonly Who Anyone = new("anyone", anonymous: true, roles: null);

    public static readonly Who SignedIn = new("anyone signed in", anonymous: false, roles: null);

    /// <summary>No person's session will do: everyone without a collector token is asked for credentials (401).</summary>
    public static readonly Who CollectorToken = new("a collector's bearer token", anonymous: false, roles: [], otherCredential: true);

    public static Who InRole(params string[] roles) => new(string.Join(" or ", roles), anonymous: false, roles);

    public string Description { get; }

    public bool Anonymous { get; }

    /// <summary>Null when any signed-in person will do.</summary>
    public IReadOnlyList<string>? Roles { get; }

    /// <summary>A portal session is not the credential this route takes, so a signed-in person is challenged, not forbidden.</summary>
    public bool OtherCredential { get; }

    public bool Allows(IReadOnlyCollection<string>? callerRoles) =>
        !OtherCredential && (callerRoles is null ? Anonymous : Roles is null || Roles.Any(callerRoles.Contains));

    public override string ToString() => Description;
}

/// <summary>
/// One row of the expected access table: the methods and route pattern as the route table names them,
/// a concrete URL that reaches the route, and who may use it.
/// </summary>
public sealed record RouteAccess(string Methods, string Pattern, string SampleUrl, Who Who)
{
    public RouteAccess(string methods, string pattern, Who who)
        : this(methods, pattern, pattern, who)
    {
    }

    /// <summary>The method the sample request uses when the route takes any method.</summary>
    public string AnyMethodSample { get; init; } = "GET";

    public IEnumerable<string> EachMethod => Methods.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The portal's people as the demo data has them (docs/demo-data.md); everyone is also an Employee.</summary>
public static class Callers
{
    public const string Anonymous = "anonymous";

    /// <summary>One demo user per role.</summary>
    public static readonly IReadOnlyList<string> DemoUsers =
    [
        "alice@example.com",
        "priya@example.com",
        "dana@example.com",
        "audrey@example.com",
        "admin@example.com",
    ];

    public static IReadOnlyList<string> All => [Anonymous, .. DemoUsers];

    public static IReadOnlyCollection<string>? RolesOf(string caller) =>
        caller == Anonymous ? null : Demo.DemoData.FindUser(caller)?.Roles ?? throw new ArgumentException($"{caller} is not a demo user.");

    static Callers()
    {
        var covered = DemoUsers.SelectMany(user => RolesOf(user)!).ToHashSet();
        var missing = Roles.All.Where(role => !covered.Contains(role)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"No demo user in the authorization matrix holds {string.Join(", ", missing)}.");
    }
}
