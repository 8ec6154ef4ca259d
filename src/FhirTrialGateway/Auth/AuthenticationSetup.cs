using FhirTrialGateway.Http;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Auth;

/// <summary>Configuration section "Auth".</summary>
public sealed class AuthOptions
{
    /// <summary>The longest access-token and client-assertion lifetime SMART Backend Services allows.</summary>
    public const int MaxLifetimeSeconds = 300;

    /// <summary>On by default. Turning it off (development mode) must be asked for explicitly and is logged loudly.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// An external token issuer (Keycloak, Entra ID; OpenID Connect discovery at {Authority}/.well-known/openid-configuration).
    /// When set, the built-in token endpoint is off and tokens from that issuer are accepted instead.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must be issued for; defaults to the FHIR base URL.</summary>
    public string? Audience { get; set; }

    /// <summary>External issuer only: require https for its metadata (default true; false only for a local Keycloak).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The built-in server's issuer (iss of its tokens); defaults to {public root}/auth.</summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// The token endpoint URL as clients reach it: the audience their assertions must name. Defaults to
    /// {public root}/auth/token, the public root being Fhir:BaseUrl without its /fhir, or the request's origin.
    /// With an external issuer, the token endpoint advertised in the SMART configuration (default: from its discovery).
    /// </summary>
    public string? TokenUrl { get; set; }

    /// <summary>Access-token lifetime in seconds, at most (and by default) 300.</summary>
    public int TokenLifetimeSeconds { get; set; } = MaxLifetimeSeconds;

    /// <summary>Tolerated clock difference with clients, seconds (default 30, at most 60).</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>The gateway's private token-signing JWK; default token-signing-key.json in the data folder (created if missing).</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>Algorithm of a newly generated signing key: RS256 (default) or ES256.</summary>
    // RS256 by default: the API verifies the token on every request, and an RSA signature verifies several times faster
    // than an ECDSA one (measured in docs/benchmarks.md, security section); ES256 stays available.
    public string SigningAlgorithm { get; set; } = SecurityAlgorithms.RsaSha256;

    /// <summary>The client registry file; default clients.json in the data folder (beside the SQLite file).</summary>
    public string? ClientsFile { get; set; }

    /// <summary>Bound on remembered assertion ids (jti) for replay detection; past it, token requests get 503 until some expire.</summary>
    public int MaxRememberedAssertions { get; set; } = 100_000;

    /// <summary>True when this gateway issues its own tokens (authentication on, no external Authority).</summary>
    public bool BuiltInServer => Enabled && string.IsNullOrWhiteSpace(Authority);

    internal TimeSpan ClockSkew => TimeSpan.FromSeconds(Math.Clamp(ClockSkewSeconds, 0, 60));

    internal TimeSpan TokenLifetime => TimeSpan.FromSeconds(Math.Clamp(TokenLifetimeSeconds, 1, MaxLifetimeSeconds));

    /// <summary>The folder beside the SQLite file ("data" by default): where the key and the registry live.</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        Path.GetDirectoryName(Path.GetFullPath(configuration["Storage:Sqlite:Path"] ?? "./data/gateway.db"))!;

    public string ClientsFilePath(IConfiguration configuration) =>
        Path.GetFullPath(ClientsFile ?? Path.Combine(DataDirectory(configuration), ClientRegistryFile.DefaultFileName));

    public string SigningKeyFilePath(IConfiguration configuration) =>
        Path.GetFullPath(SigningKeyFile ?? Path.Combine(DataDirectory(configuration), GatewaySigningKey.DefaultFileName));
}

/// <summary>
/// Authentication for the FHIR API: bearer tokens (JWT) checked by Microsoft's JwtBearer handler (issuer, audience,
/// lifetime, signing key, algorithm). By default the gateway is its own SMART Backend Services authorization server
/// (<see cref="SmartTokenEndpoint"/>) and validates the tokens it signed; with Auth:Authority set, an external
/// server's tokens are validated instead and the built-in token endpoint is off.
/// </summary>
internal static class AuthenticationSetup
{
    public const string ApiPolicy = "fhir-api";

    public static AuthOptions AddGatewayAuthentication(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var options = configuration.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddGatewaySecurityDefaults(options);
        if (!options.Enabled)
        {
            builder.Services.AddAuthorization();
            return options;
        }

        GatewaySigningKey? signing = null;
        if (options.BuiltInServer)
        {
            signing = GatewaySigningKey.LoadOrCreate(options.SigningKeyFilePath(configuration), options.SigningAlgorithm);
            builder.Services.AddSingleton(signing);
            builder.Services.AddSingleton(services => new ClientRegistry(
                ClientRegistry.FromConfiguration(configuration.GetSection("Auth")), options.ClientsFilePath(configuration),
                services.GetRequiredService<ILoggerFactory>().CreateLogger("Auth")));
            builder.Services.AddSingleton(services => new AssertionReplayCache(options.MaxRememberedAssertions, services.GetRequiredService<TimeProvider>()));
            builder.Services.AddSingleton<JwksUrlKeys>();
            builder.Services.AddSingleton<ClientAssertionValidator>();
            builder.Services.AddSingleton<AccessTokenIssuer>();
        }

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddSingleton(services => new ValidatedTokenCache(options, services.GetRequiredService<TimeProvider>()));
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IHttpContextAccessor, TimeProvider, ValidatedTokenCache>((jwt, accessor, time, cache) =>
            {
                jwt.MapInboundClaims = false;
                jwt.Events = cache.Events();
                jwt.TimeProvider = time;
                var parameters = jwt.TokenValidationParameters;
                parameters.ValidateIssuer = true;
                parameters.ValidateAudience = true;
                parameters.ValidateLifetime = true;
                parameters.RequireExpirationTime = true;
                parameters.ValidateIssuerSigningKey = true;
                parameters.RequireSignedTokens = true;
                parameters.ClockSkew = options.ClockSkew;
                parameters.NameClaimType = GatewayClaims.ClientId;
                parameters.RoleClaimType = GatewayClaims.Role;
                // The audience is the FHIR base URL as this request reached it (or Auth:Audience): a token minted for
                // another deployment's base is refused.
                parameters.AudienceValidator = (audiences, _, _) =>
                    accessor.HttpContext is { } context && audiences.Contains(SmartUrls.Audience(context, options), StringComparer.Ordinal);
                if (signing is not null)
                {
                    parameters.IssuerSigningKey = signing.Key;
                    parameters.ValidAlgorithms = [signing.Algorithm];
                    parameters.ValidTypes = [AccessTokenIssuer.TokenType];
                    parameters.IssuerValidator = (issuer, _, _) =>
                        accessor.HttpContext is { } context && issuer == SmartUrls.Issuer(context, options)
                            ? issuer
                            : throw new SecurityTokenInvalidIssuerException($"The token was not issued by this gateway (iss '{issuer}').");
                }
                else
                {
                    jwt.Authority = options.Authority;
                    jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
                    if (!string.IsNullOrEmpty(options.Audience))
                    {
                        parameters.ValidAudience = options.Audience;
                    }
                }
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, policy => policy.RequireAuthenticatedUser());
        return options;
    }

    /// <summary>HSTS/CORS when configured, then authentication, rate limiting and authorization, in that order (limits are per client).</summary>
    public static void UseGatewayAuthentication(this WebApplication app, AuthOptions options)
    {
        app.UseGatewaySecurityDefaults();
        if (options.Enabled)
        {
            app.UseAuthentication();
        }

        // After authentication (the audit names the client), before anything that can refuse the request.
        app.UseMiddleware<FhirTrialGateway.Audit.AuditMiddleware>();
        app.UseGatewayRateLimiting();
        app.UseAuthorization();
    }

    /// <summary>Says loudly at start what the authentication mode is.</summary>
    public static void LogAuthenticationMode(this WebApplication app, AuthOptions options)
    {
        if (!options.Enabled)
        {
            app.Logger.LogWarning(
                "DEVELOPMENT MODE: authentication is DISABLED (Auth:Enabled=false). Anyone who can reach this port can read and write every resource. Never expose this server.");
        }
        else if (options.BuiltInServer)
        {
            var registry = app.Services.GetRequiredService<ClientRegistry>();
            var signing = app.Services.GetRequiredService<GatewaySigningKey>();
            var count = registry.All().Count;
            app.Logger.LogInformation(
                "SMART Backend Services: token endpoint /auth/token, {Count} registered client(s) (registry {File}), tokens signed with {Algorithm} key {KeyId}",
                count, registry.FilePath, signing.Algorithm, signing.KeyId);
            if (count == 0)
            {
                app.Logger.LogWarning("No client is registered: every API request will be refused with 401. Register one with `fhirgw clients add`.");
            }
        }
        else
        {
            app.Logger.LogInformation("Bearer tokens from the external issuer {Authority}; the built-in token endpoint is off", options.Authority);
        }
    }
}

/// <summary>The public URLs of the authorization pieces, as the client reaches them (behind a proxy: from Fhir:BaseUrl).</summary>
public static class SmartUrls
{
    /// <summary>The server root: Fhir:BaseUrl without its trailing /fhir, or the request's scheme, host and path base.</summary>
    public static string Root(HttpContext context)
    {
        var configured = context.RequestServices.GetRequiredService<GatewayOptions>().BaseUrl;
        if (!string.IsNullOrEmpty(configured))
        {
            var trimmed = configured.TrimEnd('/');
            return trimmed.EndsWith("/fhir", StringComparison.OrdinalIgnoreCase) ? trimmed[..^"/fhir".Length] : trimmed;
        }

        var request = context.Request;
        return $"{request.Scheme}://{request.Host}{request.PathBase}";
    }

    public static string TokenUrl(HttpContext context, AuthOptions options) => options.TokenUrl ?? Root(context) + SmartEndpoints.TokenPath;

    public static string Issuer(HttpContext context, AuthOptions options) => options.Issuer ?? Root(context) + "/auth";

    public static string Audience(HttpContext context, AuthOptions options) => options.Audience ?? FhirRequestContext.BaseUrl(context);
}
