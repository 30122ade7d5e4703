using System.Data.Common;
using Dapper;
using GovernancePortal.Access;
using GovernancePortal.Data;

namespace GovernancePortal.Programs;

/// <summary>How a program's row is locked when it is read inside a write scope.</summary>
public enum RowLock
{
    None,

    /// <summary>Conflicts with a pause, a resume or an edit of the program: what collection reads under.</summary>
    Share,

    /// <summary>Taken by whatever changes the program's state: a pause, a resume, an edit.</summary>
    Update,
}

/// <summary>
/// The one owner of the question "this program": the register, one program by key or id with its
/// categories, read on a connection of its own or inside a caller's write scope, under the lock asked for.
/// </summary>
public sealed class ProgramQueries(ConnectionFactory connections)
{
    private const string ProgramColumns = """
        SELECT id AS Id, key AS Key, name AS Name, purpose AS Purpose, owner AS Owner,
               legal_basis AS LegalBasis, state AS State, created_at AS CreatedAt
        FROM programs
        """;

    private const string CategoryColumns = """
        SELECT id AS Id, program_id AS ProgramId, key AS Key, name AS Name, description AS Description,
               sensitivity AS Sensitivity, retention_days AS RetentionDays, paused AS Paused, retired_at AS RetiredAt
        FROM categories
        """;

    private const string AllPrograms = $"{ProgramColumns} ORDER BY name";
    private const string AllCategories = $"{CategoryColumns} ORDER BY program_id, id";
    private const string ByKey = $"{ProgramColumns} WHERE key = @Key";
    private const string ById = $"{ProgramColumns} WHERE id = @Id";
    private const string CategoriesOf = $"{CategoryColumns} WHERE program_id = @ProgramId ORDER BY id";

    /// <summary>The whole register, by name, each program with its categories.</summary>
    public async Task<IReadOnlyList<MonitoringProgram>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var programs = await connection.QueryAsync<MonitoringProgram>(new CommandDefinition(AllPrograms, cancellationToken: cancellationToken));
        var categories = (await connection.QueryAsync<DataCategory>(new CommandDefinition(AllCategories, cancellationToken: cancellationToken)))
            .ToLookup(c => c.ProgramId);
        return programs.Select(p => p with { Categories = categories[p.Id].ToList() }).ToList();
    }

    public async Task<MonitoringProgram?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await ReadAsync(connection, null, ByKey, new { Key = key }, cancellationToken);
    }

    public async Task<MonitoringProgram?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await ReadAsync(connection, null, ById, new { Id = id }, cancellationToken);
    }

    /// <summary>
    /// One program inside <paramref name="scope"/>; the lock, if any, is held until the scope ends, and is
    /// taken behind the program's fair gate (<see cref="SqlDialect.GateAsync"/>), which is by id.
    /// </summary>
    public async Task<MonitoringProgram?> GetAsync(WriteScope scope, string key, RowLock rowLock = RowLock.None)
    {
        if (rowLock == RowLock.None || scope.Dialect.ForShare.Length == 0)
            return await ReadAsync(scope.Connection, scope.Transaction, $"{ByKey} {Clause(scope, rowLock)}", new { Key = key }, scope.Cancellation);
        var id = await scope.ExecuteScalarAsync<long?>("SELECT id FROM programs WHERE key = @Key", new { Key = key });
        return id is null ? null : await GetAsync(scope, id.Value, rowLock);
    }

    public async Task<MonitoringProgram?> GetAsync(WriteScope scope, long id, RowLock rowLock = RowLock.None)
    {
        if (rowLock != RowLock.None)
            await scope.GateAsync(Gate.Program, rowLock == RowLock.Share ? GateMode.Shared : GateMode.Exclusive, id);
        return await ReadAsync(scope.Connection, scope.Transaction, $"{ById} {Clause(scope, rowLock)}", new { Id = id }, scope.Cancellation);
    }

    /// <summary>The same, or <see cref="NotFoundProblem"/> with the words a person reads.</summary>
    public async Task<MonitoringProgram> RequireAsync(WriteScope scope, string key, RowLock rowLock = RowLock.None) =>
        await GetAsync(scope, key, rowLock) ?? throw new NotFoundProblem($"There is no program '{key}'.");

    private static async Task<MonitoringProgram?> ReadAsync(DbConnection connection, DbTransaction? transaction, string sql, object parameters,
        CancellationToken cancellationToken)
    {
        var program = await connection.QuerySingleOrDefaultAsync<MonitoringProgram>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));
        if (program is null)
            return null;
        var categories = await connection.QueryAsync<DataCategory>(
            new CommandDefinition(CategoriesOf, new { ProgramId = program.Id }, transaction, cancellationToken: cancellationToken));
        return program with { Categories = categories.AsList() };
    }

    private static string Clause(WriteScope scope, RowLock rowLock) => rowLock switch
    {
        RowLock.Share => scope.Dialect.ForShare,
        RowLock.Update => scope.Dialect.ForUpdate,
        _ => "",
    };
}
