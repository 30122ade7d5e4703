using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using GovernancePortal.Collection;

namespace GovernancePortal.Cli.Bench;

/// <summary>Sums the portal's per-phase batch timings (<see cref="CollectionTimings"/>) while a round runs.</summary>
internal sealed class PhaseTotals : IDisposable
{
    private static readonly string[] Order =
    [
        CollectionTimings.Read, CollectionTimings.Idempotency, CollectionTimings.Begin, CollectionTimings.Switches, CollectionTimings.Subjects,
        CollectionTimings.Keys, CollectionTimings.Seal, CollectionTimings.Insert, CollectionTimings.Group, CollectionTimings.Usage, CollectionTimings.Commit,
    ];

    private readonly MeterListener _listener = new();
    private ConcurrentDictionary<string, double> _totals = new(StringComparer.Ordinal);

    public PhaseTotals()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CollectionTimings.MeterName && instrument.Name == CollectionTimings.PhaseHistogram)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "phase" && tag.Value is string phase)
                    _totals.AddOrUpdate(phase, value, (_, total) => total + value);
        });
        _listener.Start();
    }

    public void Reset() => _totals = new ConcurrentDictionary<string, double>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> Snapshot() => new Dictionary<string, double>(_totals, StringComparer.Ordinal);

    /// <summary>Mean milliseconds per batch of each phase, and what is left of the client's latency (HTTP, routing, authentication, the answer).</summary>
    public static string Describe(IReadOnlyDictionary<string, double> totals, IReadOnlyList<double> latencies)
    {
        var batches = latencies.Count;
        var mean = latencies.Average();
        var parts = Order.Select(phase => $"{phase} {totals.GetValueOrDefault(phase) / batches:0.0}").ToList();
        var rest = mean - totals.Values.Sum() / batches;
        parts.Add($"http+rest {rest:0.0}");
        return string.Create(CultureInfo.InvariantCulture, $"mean {mean:0.0} ms = ") + string.Join(", ", parts);
    }

    public void Dispose() => _listener.Dispose();
}
