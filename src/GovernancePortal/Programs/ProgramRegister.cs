using System.Data.Common;
using Dapper;
using GovernancePortal.Data;

namespace GovernancePortal.Programs;

/// <summary>Reads the register of monitoring programs and their data categories.</summary>
public sealed class ProgramRegister(ConnectionFactory connections)
{
    private const string AllPrograms = """
        SELECT id AS Id, key AS Key, name AS Name, purpose AS Purpose, owner AS Owner,
               legal_basis AS LegalBasis, state AS State, created_at AS CreatedAt
        FROM programs ORDER BY name
        """;

    private const string AllCategories = """
        SELECT id AS Id, program_id AS ProgramId, key AS Key, name AS Name, description AS Description,
               sensitivity AS Sensitivity, retention_days AS RetentionDays, paused AS Paused, retired_at AS RetiredAt
        FROM categories ORDER BY program_id, id
        """;

    public async Task<IReadOnlyList<MonitoringProgram>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await ListAsync(connection);
    }

    public Task<MonitoringProgram?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        GetAsync(connections, key, cancellationToken);

    internal static async Task<MonitoringProgram?> GetAsync(ConnectionFactory connections, string key, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return (await ListAsync(connection)).FirstOrDefault(p => p.Key == key);
    }

    public static async Task<IReadOnlyList<MonitoringProgram>> ListAsync(DbConnection connection, DbTransaction? transaction = null)
    {
        var programs = await connection.QueryAsync<MonitoringProgram>(AllPrograms, transaction: transaction);
        var categories = (await connection.QueryAsync<DataCategory>(AllCategories, transaction: transaction)).ToLookup(c => c.ProgramId);
        return programs.Select(p => p with { Categories = categories[p.Id].ToList() }).ToList();
    }
}
