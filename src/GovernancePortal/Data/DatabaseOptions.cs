using Microsoft.Extensions.Configuration;
using Npgsql;

namespace GovernancePortal.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public sealed record DatabaseOptions(DatabaseProvider Provider, string ConnectionString)
{
    public const string DefaultSqliteConnectionString = "Data Source=portal.db";

    /// <summary>
    /// Reads <c>Database:Provider</c> and <c>ConnectionStrings:Portal</c>; a bad value is a <see cref="ConfigurationProblem"/>.
    /// A relative SQLite file is placed in <paramref name="dataFolder"/> (the default is <c>data/portal.db</c>).
    /// </summary>
    public static DatabaseOptions FromConfiguration(IConfiguration configuration, string dataFolder)
    {
        var providerText = configuration["Database:Provider"];
        DatabaseProvider provider;
        if (string.IsNullOrWhiteSpace(providerText))
            provider = DatabaseProvider.Sqlite;
        else if (!Enum.TryParse(providerText, ignoreCase: true, out provider) || !Enum.IsDefined(provider))
            throw new ConfigurationProblem($"Database:Provider '{providerText}' is not known; use 'Sqlite' or 'Postgres'.");

        var connectionString = configuration.GetConnectionString("Portal");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (provider == DatabaseProvider.Postgres)
                throw new ConfigurationProblem("Database:Provider is 'Postgres' but ConnectionStrings:Portal is not set.");
            connectionString = DefaultSqliteConnectionString;
        }

        if (provider == DatabaseProvider.Sqlite)
            connectionString = SqliteFiles.AnchorDataSource(connectionString, dataFolder);
        return new DatabaseOptions(provider, connectionString);
    }

    /// <summary>Where the database is, for people: engine, host and name, never credentials.</summary>
    public string Describe()
    {
        if (Provider == DatabaseProvider.Sqlite)
            return $"SQLite database {SqliteFiles.DataSourceOf(ConnectionString)}";
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"PostgreSQL database '{builder.Database}' on {builder.Host}:{builder.Port}";
        }
        catch (ArgumentException)
        {
            return "PostgreSQL database (ConnectionStrings:Portal could not be parsed)";
        }
    }
}

/// <summary>A setting that is missing or wrong; the host prints its message as one line and exits.</summary>
public sealed class ConfigurationProblem(string message) : Exception(message);
