using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GovernancePortal.Collection;

/// <summary>
/// Where a batch's time goes: the histogram <c>gp.collect.phase.duration</c> (milliseconds, tag <c>phase</c>) of
/// the meter <c>GovernancePortal.Collection</c>, one measurement per phase per batch. Live on a running portal with
/// <c>dotnet-counters monitor -n GovernancePortal.Web --counters GovernancePortal.Collection</c>; <c>gp bench ingest</c>
/// sums it per round (docs/PERFORMANCE.md). Without a listener a measurement costs a branch.
/// </summary>
public static class CollectionTimings
{
    public const string MeterName = "GovernancePortal.Collection";
    public const string PhaseHistogram = "gp.collect.phase.duration";

    /// <summary>Reading and parsing the request body (with its SHA-256).</summary>
    public const string Read = "read";
    /// <summary>Looking up and storing the answer of an <c>Idempotency-Key</c>.</summary>
    public const string Idempotency = "idempotency";
    /// <summary>Waiting for a connection and the write transaction (SQLite: the writer's turn).</summary>
    public const string Begin = "begin";
    /// <summary>The switch checks and their locks: collector, program and categories, subjects, revocations.</summary>
    public const string Switches = "switches";
    public const string Subjects = "subjects";
    public const string Keys = "keys";
    public const string Seal = "seal";
    public const string Insert = "insert";
    public const string Commit = "commit";
    /// <summary>SQLite: after its own part, a batch waiting for the rest of its group before the group commits.</summary>
    public const string Group = "group";
    /// <summary>The collector's usage counters, written after the commit.</summary>
    public const string Usage = "usage";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Phases = Meter.CreateHistogram<double>(PhaseHistogram, "ms", "Time of one phase of one collection batch.");

    /// <summary>A clock that records the time since its last mark under each phase named.</summary>
    public static PhaseClock Start() => new(Stopwatch.GetTimestamp());

    public struct PhaseClock(long started)
    {
        private long _last = started;

        public void Mark(string phase)
        {
            var now = Stopwatch.GetTimestamp();
            if (Phases.Enabled)
                Phases.Record(Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds, new KeyValuePair<string, object?>("phase", phase));
            _last = now;
        }

        /// <summary>Starts the next phase here without recording the time since the last mark.</summary>
        public void Skip() => _last = Stopwatch.GetTimestamp();
    }
}
