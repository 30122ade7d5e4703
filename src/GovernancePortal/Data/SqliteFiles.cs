using Microsoft.Data.Sqlite;

namespace GovernancePortal.Data;

internal static class SqliteFiles
{
    /// <summary>Makes a relative SQLite file path absolute under <paramref name="folder"/> and creates its folder.</summary>
    public static string AnchorDataSource(string connectionString, string folder)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        if (string.IsNullOrEmpty(source) || source == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
            return builder.ToString();
        if (!Path.IsPathRooted(source))
            source = Path.GetFullPath(Path.Combine(folder, source));
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        builder.DataSource = source;
        return builder.ToString();
    }

    public static string DataSourceOf(string connectionString) => new SqliteConnectionStringBuilder(connectionString).DataSource;
}
