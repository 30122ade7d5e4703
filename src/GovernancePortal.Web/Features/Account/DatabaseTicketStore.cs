using System.Security.Claims;
using System.Security.Cryptography;
using GovernancePortal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// The cookie's session store: the cookie carries only a random key, the ticket lives in the database
/// (encrypted with the data-protection keys every node shares). Signing out ends the session for every
/// node and every copy of the cookie; a session also ends at its absolute lifetime, however active.
/// </summary>
public sealed class DatabaseTicketStore(SessionStore sessions, IDataProtectionProvider protection, SessionSettings settings, TimeProvider time)
    : ITicketStore
{
    private readonly IDataProtector _protector = protection.CreateProtector("GovernancePortal.Sessions.Ticket.v1");

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        // The last line of defence of "the portal builds every session itself" (docs/sign-in.md): whatever
        // path reaches the cookie handler, a principal the portal did not make is never kept.
        if (!PortalClaims.IsPortalPrincipal(ticket.Principal) || ticket.Principal.GetSubjectId() is not { } subjectId)
            throw new InvalidOperationException("Only a principal built by the portal can become a session.");
        var key = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var keyHash = Hash(key);
        var identity = (ClaimsIdentity)ticket.Principal.Identity!;
        foreach (var stale in identity.FindAll(PortalClaims.Session).ToList())
            identity.RemoveClaim(stale);
        identity.AddClaim(new Claim(PortalClaims.Session, keyHash));
        var now = time.GetUtcNow();
        await sessions.CreateAsync(keyHash, subjectId, Protect(ticket), now, now + settings.AbsoluteLifetime);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) =>
        sessions.RenewAsync(Hash(key), Protect(ticket), time.GetUtcNow());

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        var session = await sessions.FindActiveAsync(Hash(key), time.GetUtcNow());
        if (session is null)
            return null;
        var ticket = TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        if (ticket is not null && (ticket.Properties.ExpiresUtc is null || ticket.Properties.ExpiresUtc > session.ExpiresAt))
            ticket.Properties.ExpiresUtc = session.ExpiresAt;
        return ticket;
    }

    public Task RemoveAsync(string key) => sessions.EndAsync(Hash(key), SessionStore.SignedOut, time.GetUtcNow());

    /// <summary>Only the hash of a session key is stored, so a copy of the table is not a set of cookies.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    private byte[] Protect(AuthenticationTicket ticket) => _protector.Protect(TicketSerializer.Default.Serialize(ticket));
}
