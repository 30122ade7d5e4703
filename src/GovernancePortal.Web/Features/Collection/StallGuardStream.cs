namespace GovernancePortal.Web.Features.Collection;

/// <summary>Thrown when a request body stops arriving for longer than the allowed pause.</summary>
public sealed class BodyStalledException() : Exception("The request body stopped arriving.");

/// <summary>
/// Reads a request body, failing a read that waits longer than <paramref name="readTimeout"/> for
/// data, so a collector whose body stalls half-way gets a clear 400 and holds no database lock.
/// </summary>
public sealed class StallGuardStream(Stream inner, TimeSpan readTimeout, CancellationToken requestAborted) : Stream
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

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The body is read asynchronously.");

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
