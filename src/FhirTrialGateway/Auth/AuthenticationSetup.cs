using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace FhirTrialGateway.Auth;

/// <summary>Configuration section "Auth".</summary>
public sealed class AuthOptions
{
    /// <summary>On by default. Turning it off (development mode) must be asked for explicitly and is logged loudly.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The token issuer (OpenID Connect discovery at {Authority}/.well-known/openid-configuration).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must be issued for; defaults to the FHIR base URL.</summary>
    public string? Audience { get; set; }
}

/// <summary>
/// Bearer-token authentication for the FHIR API with Microsoft's JwtBearer handler (issuer, audience, lifetime and
/// signing keys checked). With authentication on and no issuer configured every API call is refused: the safe
/// default for a server that holds health data.
/// </summary>
internal static class AuthenticationSetup
{
    public const string ApiPolicy = "fhir-api";

    public static AuthOptions AddGatewayAuthentication(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        builder.Services.AddSingleton(options);
        if (!options.Enabled)
        {
            builder.Services.AddAuthorization();
            return options;
        }

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.Authority = options.Authority;
                jwt.Audience = options.Audience;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters.ValidateIssuer = true;
                jwt.TokenValidationParameters.ValidateAudience = true;
                jwt.TokenValidationParameters.ValidateLifetime = true;
                jwt.TokenValidationParameters.ValidateIssuerSigningKey = true;
                jwt.TokenValidationParameters.RequireSignedTokens = true;
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, policy => policy.RequireAuthenticatedUser());
        return options;
    }

    /// <summary>Says loudly at start what the authentication mode is.</summary>
    public static void LogAuthenticationMode(this WebApplication app, AuthOptions options)
    {
        if (!options.Enabled)
        {
            app.Logger.LogWarning(
                "DEVELOPMENT MODE: authentication is DISABLED (Auth:Enabled=false). Anyone who can reach this port can read and write every resource. Never expose this server.");
        }
        else if (string.IsNullOrEmpty(options.Authority))
        {
            app.Logger.LogWarning(
                "Authentication is on but no token issuer is configured (Auth:Authority): every API request will be refused with 401. For local use start with --Auth:Enabled=false.");
        }
    }
}
