using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace GovernancePortal.Data;

/// <summary>
/// One unit of work: a connection, its write transaction and the engine's dialect, handed out by
/// <see cref="ConnectionFactory.BeginWriteAsync(CancellationToken)"/> and passed from feature to feature, so that
/// a revocation, the request it files and their audit events commit together or not at all. Every
/// command runs in the transaction with the scope's cancellation token. It never reads the clock:
/// the time of an action is taken by the feature, after its locks.
/// </summary>
public sealed class WriteScope : IAsyncDisposable
{
    internal WriteScope(DbConnection connection, DbTransaction transaction, SqlDialect dialect, CancellationToken cancellation)
    {
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
        Cancellation = cancellation;
    }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    public SqlDialect Dialect { get; }

    public CancellationToken Cancellation { get; }

    public Task<int> ExecuteAsync(string sql, object? parameters = null) => Connection.ExecuteAsync(Command(sql, parameters));

    public Task<T?> ExecuteScalarAsync<T>(string sql, object? parameters = null) => Connection.ExecuteScalarAsync<T>(Command(sql, parameters));

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        (await Connection.QueryAsync<T>(Command(sql, parameters))).AsList();

    public Task<T?> QuerySingleOrDefaultAsync<T>(string sql, object? parameters = null) => Connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters));

    public Task<T> QuerySingleAsync<T>(string sql, object? parameters = null) => Connection.QuerySingleAsync<T>(Command(sql, parameters));

    /// <summary>
    /// Inserts <paramref name="rows"/> many to a statement, in their order (callers that must not deadlock pass them sorted):
    /// <paramref name="insert"/> is the INSERT with its columns, <paramref name="values"/> a row's values in the columns'
    /// order, and <paramref name="onConflict"/> what follows the VALUES. Every value is a parameter.
    /// </summary>
    public async Task InsertManyAsync<T>(string insert, IEnumerable<T> rows, Func<T, object?[]> values, string onConflict)
    {
        foreach (var chunk in rows.Chunk(InsertChunk))
        {
            var parameters = new DynamicParameters();
            var tuples = new List<string>(chunk.Length);
            for (var row = 0; row < chunk.Length; row++)
            {
                var names = new List<string>();
                foreach (var value in values(chunk[row]))
                {
                    var name = $"r{row}c{names.Count}";
                    parameters.Add(name, value);
                    names.Add("@" + name);
                }
                tuples.Add($"({string.Join(", ", names)})");
            }
            await ExecuteAsync($"{insert} VALUES {string.Join(", ", tuples)} {onConflict}", parameters);
        }
    }

    private const int InsertChunk = 250;

    /// <summary>Takes the fair gate of these rows before their row lock (see <see cref="SqlDialect.GateAsync"/>).</summary>
    public Task GateAsync(Gate gate, GateMode mode, params IReadOnlyCollection<long> ids) => Dialect.GateAsync(this, gate, mode, ids);

    public async Task CommitAsync()
    {
        await Transaction.CommitAsync(Cancellation);
        if (Connection is SqliteConnection sqlite)
            SqliteCheckpoints.Committed(sqlite);
        foreach (var action in _afterCommit ?? [])
            action();
    }

    private List<Action>? _afterCommit;

    /// <summary>Runs <paramref name="action"/> once the transaction has committed; never when it is rolled back or abandoned.</summary>
    public void AfterCommit(Action action) => (_afterCommit ??= []).Add(action);

    public Task RollbackAsync() => Transaction.RollbackAsync(Cancellation);

    private CommandDefinition Command(string sql, object? parameters) => new(sql, parameters, Transaction, cancellationToken: Cancellation);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
