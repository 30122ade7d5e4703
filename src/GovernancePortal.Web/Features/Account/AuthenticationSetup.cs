using System.Security.Claims;
using GovernancePortal.Access;
using GovernancePortal.Web.Infrastructure;
using GovernancePortal.Subjects;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// Cookie sessions, established by OpenID Connect (code flow with PKCE) or, in Development without an
/// authority, by the developer sign-in page. Deny by default: every endpoint needs a signed-in user
/// unless it says otherwise, and each role is a policy of its own name.
/// </summary>
public static class AuthenticationSetup
{
    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var options = builder.PortalOptions().Authentication;
        builder.Services.AddSingleton(options.RoleMap);
        var useOidc = options.Oidc.Configured;
        var sessions = options.Session;
        builder.Services.AddSingleton(sessions);
        builder.Services.AddSingleton<DatabaseTicketStore>();
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<DatabaseTicketStore>((options, store) => options.SessionStore = store);
        // Registered before the UI's own provider, which is added only if none is (TryAdd).
        builder.Services.AddScoped<AuthenticationStateProvider, SessionRevalidation>();

        var authentication = builder.Services.AddAuthentication(options =>
        {
            options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            options.DefaultChallengeScheme = useOidc ? OpenIdConnectDefaults.AuthenticationScheme : CookieAuthenticationDefaults.AuthenticationScheme;
        });
        authentication.AddCookie(options =>
        {
            options.Cookie.Name = "gp.session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            options.ExpireTimeSpan = sessions.IdleTimeout;
            options.SlidingExpiration = true;
            options.LoginPath = useOidc ? "/authentication/login" : DevSignInEndpoints.Path;
            options.AccessDeniedPath = "/access-denied";
            options.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
            // Whatever signs in through this handler, only the portal's own principal becomes a session
            // (docs/sign-in.md); anything else is an error before a cookie is written, never a session.
            options.Events.OnSigningIn = context => PortalClaims.IsPortalPrincipal(context.Principal)
                ? Task.CompletedTask
                : throw new InvalidOperationException("Refused to sign in a principal the portal did not build.");
            // Every sign-in and sign-out is in the audit log (docs/audit-log.md).
            options.Events.OnSignedIn = context => context.HttpContext.RequestServices.GetRequiredService<AccessEvents>().SignedInAsync(
                context.Principal!.ToActor(), context.Request.Path == DevSignInEndpoints.Path ? "developer sign-in" : "OpenID Connect",
                context.HttpContext.RequestAborted);
            options.Events.OnSigningOut = context => context.HttpContext.User.Identity?.IsAuthenticated == true
                ? context.HttpContext.RequestServices.GetRequiredService<AccessEvents>().SignedOutAsync(
                    context.HttpContext.User.ToActor(), context.Properties?.Items.ContainsKey(AuthenticationEndpoints.EverywhereItem) == true,
                    context.HttpContext.RequestAborted)
                : Task.CompletedTask;
            options.Events.OnValidatePrincipal = context =>
            {
                if (!PortalClaims.IsPortalPrincipal(context.Principal))
                    context.RejectPrincipal();
                return Task.CompletedTask;
            };
        });

        if (useOidc)
            AddOpenIdConnect(authentication, options.Oidc);

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Roles.Employee, policy => policy.RequireRole(Roles.Employee))
            .AddPolicy(Roles.DataConsumer, policy => policy.RequireRole(Roles.DataConsumer))
            .AddPolicy(Roles.PrivacyOfficer, policy => policy.RequireRole(Roles.PrivacyOfficer))
            .AddPolicy(Roles.Auditor, policy => policy.RequireRole(Roles.Auditor))
            .AddPolicy(Roles.Admin, policy => policy.RequireRole(Roles.Admin));
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, RefusalAudit>();
        return builder;
    }

    private static void AddOpenIdConnect(AuthenticationBuilder authentication, OidcOptions oidc)
    {
        var settings = new OidcSettings(oidc.RoleClaimType, oidc.EmailsAreVerified);

        authentication.AddOpenIdConnect(options =>
        {
            options.Authority = oidc.Authority;
            options.ClientId = oidc.ClientId;
            options.ClientSecret = oidc.ClientSecret;
            options.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.UsePkce = true;
            options.MapInboundClaims = false;
            options.SaveTokens = true;
            options.GetClaimsFromUserInfoEndpoint = true;
            options.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile", "email" }.Concat(oidc.Scopes))
                options.Scope.Add(scope);
            options.TokenValidationParameters.NameClaimType = "name";
            // Groups and email_verified from the user-info endpoint are not kept unless mapped; they are
            // read once, to build the portal's principal, and never act as portal roles themselves.
            options.ClaimActions.MapJsonKey(settings.RoleClaimType, settings.RoleClaimType);
            if (settings.RoleClaimType != "groups")
                options.ClaimActions.MapJsonKey("groups", "groups");
            options.ClaimActions.MapUniqueJsonKey("email_verified", "email_verified");
            options.CallbackPath = "/signin-oidc";
            options.SignedOutCallbackPath = "/signout-callback-oidc";
            options.Events.OnTicketReceived = context => PortalSignIn.OnTicketReceivedAsync(context, settings);
            options.Events.OnRedirectToIdentityProvider = context =>
            {
                // Only a browser asking for a page is sent to the identity provider; anything else gets a bare 401.
                if (!WantsPage(context.Request))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.HandleResponse();
                }
                return Task.CompletedTask;
            };
            options.Events.OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>()
                    .CreateLogger(typeof(AuthenticationSetup)).LogWarning("OpenID Connect sign-in failed: {Reason}", context.Failure?.Message);
                context.Response.Redirect(PortalSignIn.FailedPath(SignInRefusal.ProviderError));
                context.HandleResponse();
                return context.HttpContext.RequestServices.GetRequiredService<AccessEvents>()
                    .SignInRefusedAsync(SignInRefusals.Code(SignInRefusal.ProviderError), "OpenID Connect", CancellationToken.None);
            };
        });
    }

    public const string SignInFailedPath = "/account/sign-in-failed";

    private static bool WantsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments("/api")
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>Browsers are redirected to sign in; API and other non-page requests get a bare status code.</summary>
    private static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (WantsPage(context.Request))
            context.Response.Redirect(context.RedirectUri);
        else
            context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
