using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace GovernancePortal.Web.Tests.Account;

/// <summary>
/// A person as the identity provider knows them; <see cref="Groups"/> go out as the <c>roles</c> claim,
/// <see cref="EmailVerified"/> as <c>email_verified</c> (null: the claim is not sent, as Entra ID does).
/// </summary>
public sealed record ProviderUser(string Subject, string Email, string Name, IReadOnlyList<string> Groups, bool? EmailVerified = true);

/// <summary>
/// A real OpenID Connect provider for the portal to talk to: OpenIddict's server on Kestrel at a free
/// loopback port, authorization code flow with PKCE required, one confidential client. It keeps no
/// store (degraded mode), so the handlers below check the client id, secret and redirect URI that a
/// store would. Its authorization endpoint signs the caller in at once as the person named by the
/// <see cref="UserCookie"/> of the browser (the provider's own session, so to speak), or as the
/// default user.
/// </summary>
public sealed class OidcTestProvider : IAsyncDisposable
{
    public const string ClientId = "governance-portal";
    public const string ClientSecret = "portal-test-secret";
    public const string UserCookie = "idp-user";
    public const string AuthorizePath = "/connect/authorize";

    private readonly WebApplication _app;

    private OidcTestProvider(WebApplication app, Uri authority)
    {
        _app = app;
        Authority = authority;
    }

    public Uri Authority { get; }

    /// <summary>Starts the provider for a client whose only redirect URI is <paramref name="redirectUri"/>.</summary>
    public static async Task<OidcTestProvider> StartAsync(Uri redirectUri, IReadOnlyDictionary<string, ProviderUser> users, string defaultUser)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Configuration["Logging:LogLevel:Default"] = nameof(LogLevel.Warning);
        builder.Services.AddOpenIddict().AddServer(server =>
        {
            server.SetAuthorizationEndpointUris(AuthorizePath)
                .SetTokenEndpointUris("/connect/token")
                .SetUserInfoEndpointUris("/connect/userinfo");
            server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            server.RegisterScopes(Scopes.Email, Scopes.Profile);
            server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            server.EnableDegradedMode();
            server.UseAspNetCore()
                .DisableTransportSecurityRequirement()
                .EnableAuthorizationEndpointPassthrough()
                .EnableUserInfoEndpointPassthrough();

            server.AddEventHandler<ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId)
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                else if (context.RedirectUri != redirectUri.AbsoluteUri)
                    context.Reject(Errors.InvalidRequest, "The redirect_uri is not registered for this client.");
                return default;
            }));
            server.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.Request.ClientId != ClientId || context.Request.ClientSecret != ClientSecret)
                    context.Reject(Errors.InvalidClient, "Unknown client or wrong secret.");
                return default;
            }));
        });

        var app = builder.Build();
        app.MapMethods(AuthorizePath, [HttpMethods.Get, HttpMethods.Post], (HttpContext context) =>
        {
            var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
            var user = users[context.Request.Cookies[UserCookie] ?? defaultUser];
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, user.Subject)
                .SetClaim(Claims.Name, user.Name)
                .SetClaims("roles", [.. user.Groups]);
            if (user.Email.Length > 0)
                identity.SetClaim(Claims.Email, user.Email);
            if (user.EmailVerified is { } verified)
                identity.AddClaim(new Claim(Claims.EmailVerified, verified ? "true" : "false", ClaimValueTypes.Boolean));
            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(claim => claim.Type == "roles"
                ? [Destinations.IdentityToken]
                : [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], async (HttpContext context) =>
        {
            var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal
                ?? throw new InvalidOperationException("The access token was not validated.");
            return Results.Ok(new Dictionary<string, string?>
            {
                [Claims.Subject] = principal.GetClaim(Claims.Subject),
                [Claims.Email] = principal.GetClaim(Claims.Email),
                [Claims.Name] = principal.GetClaim(Claims.Name),
            });
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new OidcTestProvider(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>A browser for the provider's side of the flow: keeps the provider's cookies, follows no redirect.</summary>
    public HttpClient CreateBrowser(string? signedInUser = null)
    {
        var cookies = new CookieContainer();
        if (signedInUser is not null)
            cookies.Add(Authority, new Cookie(UserCookie, signedInUser));
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies, UseProxy = false })
        {
            BaseAddress = Authority,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
