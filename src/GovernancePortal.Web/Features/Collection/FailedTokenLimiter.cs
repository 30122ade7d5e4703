using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace GovernancePortal.Web.Features.Collection;

/// <summary>
/// Counts failed collector tokens per client address in a token bucket: <c>Burst</c> failures at once,
/// then <c>PerMinute</c>. An address whose bucket is empty is refused before its token is looked up.
/// </summary>
public sealed class FailedTokenLimiter(int perMinute, int burst) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public int PerMinute { get; } = perMinute;

    /// <summary>
    /// How long the address must wait before presenting another token, or null when it may now. (Not a
    /// zero-count lease: the bucket refills in fractions, and such a lease succeeds on any fraction of a token.)
    /// </summary>
    public TimeSpan? Refusal(string address) =>
        _failures.GetStatistics(address) is { CurrentAvailablePermits: < 1 } ? TimeSpan.FromMinutes(1) / PerMinute : null;

    public void Failed(string address)
    {
        using var _ = _failures.AttemptAcquire(address, 1);
    }

    /// <summary>
    /// The client's address; an IPv6 client is counted by its /64, the block one machine is usually given.
    /// Behind a proxy this is the proxy's, unless the host applies forwarded headers.
    /// </summary>
    public static string AddressOf(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => _failures.Dispose();
}
