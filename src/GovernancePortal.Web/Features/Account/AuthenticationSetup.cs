using System.Security.Claims;
using GovernancePortal.Access;
using GovernancePortal.Data;
using GovernancePortal.Subjects;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace GovernancePortal.Web.Features.Account;

/// <summary>
/// Cookie sessions, established by OpenID Connect (code flow with PKCE) or, in Development without an
/// authority, by the developer sign-in page. Deny by default: every endpoint needs a signed-in user
/// unless it says otherwise, and each role is a policy of its own name.
/// </summary>
public static class AuthenticationSetup
{
    public static bool OidcConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["Authentication:Oidc:Authority"]);

    public static bool DevSignInEnabled(IWebHostEnvironment environment, IConfiguration configuration) =>
        environment.IsDevelopment() && !OidcConfigured(configuration);

    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var roleMap = RoleMap.FromConfiguration(configuration);
        builder.Services.AddSingleton(roleMap);
        var useOidc = OidcConfigured(configuration);

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
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            options.LoginPath = useOidc ? "/authentication/login" : DevSignInEndpoints.Path;
            options.AccessDeniedPath = "/access-denied";
            options.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
        });

        if (useOidc)
            AddOpenIdConnect(authentication, builder);

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Roles.Employee, policy => policy.RequireRole(Roles.Employee))
            .AddPolicy(Roles.DataConsumer, policy => policy.RequireRole(Roles.DataConsumer))
            .AddPolicy(Roles.PrivacyOfficer, policy => policy.RequireRole(Roles.PrivacyOfficer))
            .AddPolicy(Roles.Auditor, policy => policy.RequireRole(Roles.Auditor))
            .AddPolicy(Roles.Admin, policy => policy.RequireRole(Roles.Admin));
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    private static void AddOpenIdConnect(AuthenticationBuilder authentication, WebApplicationBuilder builder)
    {
        var oidc = builder.Configuration.GetSection("Authentication:Oidc");
        var requireHttps = oidc.GetValue("RequireHttpsMetadata", true);
        if (!requireHttps && !builder.Environment.IsDevelopment())
            throw new ConfigurationProblem("Authentication:Oidc:RequireHttpsMetadata may be false only in Development.");
        var roleClaimType = oidc["RoleClaimType"] is { Length: > 0 } configured ? configured : "roles";

        authentication.AddOpenIdConnect(options =>
        {
            options.Authority = oidc["Authority"];
            options.ClientId = oidc["ClientId"];
            options.ClientSecret = oidc["ClientSecret"];
            options.RequireHttpsMetadata = requireHttps;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.UsePkce = true;
            options.MapInboundClaims = false;
            options.SaveTokens = true;
            options.GetClaimsFromUserInfoEndpoint = true;
            options.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile", "email" }.Concat(SplitScopes(oidc["Scopes"])))
                options.Scope.Add(scope);
            options.TokenValidationParameters.NameClaimType = "name";
            options.TokenValidationParameters.RoleClaimType = roleClaimType;
            options.CallbackPath = "/signin-oidc";
            options.SignedOutCallbackPath = "/signout-callback-oidc";
            options.Events.OnTicketReceived = context => ToPortalPrincipal(context, roleClaimType);
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
                context.Response.Redirect(SignInFailedPath);
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    public const string SignInFailedPath = "/account/sign-in-failed";

    private static IEnumerable<string> SplitScopes(string? scopes) =>
        (scopes ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Replaces the identity provider's principal (ID token and user-info claims) with the portal's:
    /// subject upserted, roles mapped.
    /// </summary>
    private static async Task ToPortalPrincipal(TicketReceivedContext context, string roleClaimType)
    {
        var external = context.Principal!;
        var services = context.HttpContext.RequestServices;
        var person = new SignedInPerson(
            external.FindFirstValue("sub") ?? "",
            external.FindFirstValue("email") ?? external.FindFirstValue("preferred_username") ?? "",
            external.FindFirstValue("name") ?? "");
        try
        {
            var subject = await services.GetRequiredService<SubjectDirectory>().RecordSignInAsync(person);
            var idpValues = external.FindAll(roleClaimType).Concat(external.FindAll("groups")).Select(claim => claim.Value);
            var roles = services.GetRequiredService<RoleMap>().Map(idpValues);
            context.Principal = PortalClaims.Create(subject, roles);
        }
        catch (SubjectProblem problem)
        {
            context.Fail(problem.Message);
        }
    }

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
