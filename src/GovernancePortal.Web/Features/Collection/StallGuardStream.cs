using GovernancePortal.Data;

namespace GovernancePortal.Web.Features.Collection;

/// <summary>Thrown when a request body stops arriving for longer than the allowed pause.</summary>
public sealed class BodyStalledException() : Exception("The request body stopped arriving.");

/// <summary>
/// Reads a request body, failing a read that waits longer than <paramref name="readTimeout"/> for
/// data, so a collector whose body stalls half-way gets a clear 400 and holds no database lock.
/// </summary>
public sealed class StallGuardStream(Stream inner, TimeSpan readTimeout, CancellationToken requestAborted) : ForwardReadStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, requestAborted);
        timeout.CancelAfter(readTimeout);
        try
        {
            return await inner.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !requestAborted.IsCancellationRequested)
        {
            throw new BodyStalledException();
        }
    }
}
