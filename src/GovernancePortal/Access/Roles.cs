namespace GovernancePortal.Access;

/// <summary>The portal's roles (docs/roles.md). Identity-provider values map onto these by Authentication:RoleMap.</summary>
public static class Roles
{
    public const string Employee = "Employee";
    public const string DataConsumer = "DataConsumer";
    public const string PrivacyOfficer = "PrivacyOfficer";
    public const string Auditor = "Auditor";
    public const string Admin = "Admin";

    public static readonly IReadOnlyList<string> All = [Employee, DataConsumer, PrivacyOfficer, Auditor, Admin];
}
