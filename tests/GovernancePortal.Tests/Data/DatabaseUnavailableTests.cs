using System.Data.Common;
using Dapper;
using GovernancePortal.Data;
using GovernancePortal.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace GovernancePortal.Tests.Data;

/// <summary>An outage (answered 503, retried) is told apart from a fault (a constraint or SQL error, a bug to see).</summary>
public sealed class DatabaseUnavailableTests : DatabaseTests
{
    [Theory]
    [InlineData("08006", true)]  // connection failure
    [InlineData("28P01", true)]  // wrong password
    [InlineData("40001", true)]  // serialization failure: retry
    [InlineData("53300", true)]  // too many connections
    [InlineData("57P01", true)]  // administrator shutdown
    [InlineData("57P03", true)]  // cannot connect now (starting up)
    [InlineData("3D000", true)]  // no such database
    [InlineData("55000", true)]  // database not accepting connections
    [InlineData("23505", false)] // unique violation
    [InlineData("23503", false)] // foreign key violation
    [InlineData("42P01", false)] // undefined table
    [InlineData("22P02", false)] // invalid text representation
    public void PostgresErrors_ByState(string state, bool unavailable) =>
        Assert.Equal(unavailable, DatabaseUnavailable.IsUnavailable(new PostgresException("server says no", "ERROR", "ERROR", state)));

    [Theory]
    [InlineData(5, true)]    // busy
    [InlineData(6, true)]    // locked
    [InlineData(10, true)]   // I/O error
    [InlineData(13, true)]   // disk full
    [InlineData(14, true)]   // cannot open
    [InlineData(19, false)]  // constraint
    [InlineData(1, false)]   // SQL error
    public void SqliteErrors_ByCode(int code, bool unavailable) =>
        Assert.Equal(unavailable, DatabaseUnavailable.IsUnavailable(new SqliteException("sqlite says no", code)));

    [Fact]
    public void NoConnectionAtAll_IsUnavailable_AlsoWhenWrapped()
    {
        Assert.True(DatabaseUnavailable.IsUnavailable(new NpgsqlException("Failed to connect to 127.0.0.1:1", new System.Net.Sockets.SocketException(111))));
        Assert.True(DatabaseUnavailable.IsUnavailable(new InvalidOperationException("outer", new TimeoutException())));
        Assert.False(DatabaseUnavailable.IsUnavailable(new InvalidOperationException("a bug")));
    }

    [Theory, MemberData(nameof(Engines))]
    public async Task ARealConstraintViolation_IsAFault_NotAnOutage(Engine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await SampleData.ProgramAsync(db, "mci");

        var violation = await Assert.ThrowsAnyAsync<DbException>(() => SampleData.ProgramAsync(db, "mci"));

        Assert.False(DatabaseUnavailable.IsUnavailable(violation));
    }
}
