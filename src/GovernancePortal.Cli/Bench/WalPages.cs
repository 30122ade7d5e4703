using System.Diagnostics.Metrics;
using GovernancePortal.Data;

namespace GovernancePortal.Cli.Bench;

/// <summary>
/// Sums the pages SQLite's commits wrote to the write-ahead log (<see cref="SqliteCheckpoints.PagesCounter"/>), so a
/// benchmark can show what each path costs the engine per record. Stays at zero on PostgreSQL.
/// </summary>
internal sealed class WalPages : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public WalPages()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SqliteCheckpoints.MeterName && instrument.Name == SqliteCheckpoints.PagesCounter)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    /// <summary>The pages counted since the last call.</summary>
    public long Take() => Interlocked.Exchange(ref _total, 0);

    public void Dispose() => _listener.Dispose();
}
