using System.Data;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace GovernancePortal.Data;

/// <summary>
/// Times travel as <see cref="DateTimeOffset"/> in UTC. SQLite stores them as integer microseconds
/// since the Unix epoch (exact, compact, cheap to index); PostgreSQL as timestamptz.
/// </summary>
internal static class DapperSetup
{
    private static int _registered;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
            return;
        // Dapper maps DateTimeOffset itself unless the built-in mapping is removed first.
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcTimeHandler());
    }

    public static long ToSqliteValue(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromSqliteValue(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);

    public static object ToParameterValue(IDbDataParameter parameter, DateTimeOffset value)
    {
        if (parameter is SqliteParameter)
        {
            parameter.DbType = DbType.Int64;
            return ToSqliteValue(value);
        }
        parameter.DbType = DbType.DateTime;
        return value.UtcDateTime;
    }

    public static DateTimeOffset FromDatabase(object value) => value switch
    {
        long microseconds => FromSqliteValue(microseconds),
        DateTimeOffset offset => offset.ToUniversalTime(),
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        string text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new DataException($"Cannot read a time from a {value.GetType().Name}."),
    };

    private sealed class UtcTimeHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) =>
            parameter.Value = ToParameterValue(parameter, value);

        public override DateTimeOffset Parse(object value) => FromDatabase(value);
    }
}
