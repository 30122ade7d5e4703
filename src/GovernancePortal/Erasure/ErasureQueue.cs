namespace GovernancePortal.Erasure;

/// <summary>
/// Asks for an erasure sweep now, after a commit that gave it work (a withdrawal, an erasure request, an
/// upheld objection, a released hold). The web host enqueues <see cref="ErasureSweepJob"/> on Hangfire; where
/// nothing runs jobs (gp, the library's tests) it does nothing and the next sweep, periodic or explicit, does
/// the work. Losing the request loses nothing: the sweep finds its work in the database.
/// </summary>
public interface IErasureQueue
{
    void SweepSoon();
}

internal sealed class NoErasureQueue : IErasureQueue
{
    public void SweepSoon()
    {
    }
}
