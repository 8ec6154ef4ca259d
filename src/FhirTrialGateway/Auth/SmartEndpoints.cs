using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Auth;

/// <summary>
/// The SMART Backend Services surface, anonymous by nature: the discovery document
/// (<c>GET /fhir/.well-known/smart-configuration</c>), the token endpoint (<c>POST /auth/token</c>) and the public key
/// set of the gateway's tokens (<c>GET /auth/jwks</c>). The last two exist only for the built-in server.
/// </summary>
public static class SmartEndpoints
{
    public const string TokenPath = "/auth/token";
    public const string JwksPath = "/auth/jwks";
    public const string DiscoveryPath = "/fhir/.well-known/smart-configuration";

    /// <summary>Scope examples advertised in scopes_supported (any system/[type].[cruds subset|read|write|*] is accepted).</summary>
    public static readonly string[] ScopesSupported =
        ["system/*.cruds", "system/*.rs", "system/*.cud", "system/*.read", "system/*.write", "system/*.*"];

    public static void MapSmartEndpoints(this WebApplication app, AuthOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }

        app.MapGet(DiscoveryPath, Discovery).AllowAnonymous();
        if (options.BuiltInServer)
        {
            app.MapPost(TokenPath, SmartTokenEndpoint.HandleAsync).AllowAnonymous().DisableAntiforgery()
                .RequireRateLimiting(SecurityDefaults.TokenRateLimitPolicy);
            app.MapGet(JwksPath, (GatewaySigningKey signing) => Results.Text(signing.PublicJwks.ToJsonString(), "application/json"))
                .AllowAnonymous();
        }
    }

    /// <summary>SMART App Launch 2.x §"SMART on FHIR well-known" (the Backend Services subset), JSON whatever the Accept header.</summary>
    private static async Task<IResult> Discovery(HttpContext context, AuthOptions options, IOptionsMonitor<JwtBearerOptions> jwt)
    {
        var document = new JsonObject();
        if (options.BuiltInServer)
        {
            document["issuer"] = SmartUrls.Issuer(context, options);
            document["jwks_uri"] = SmartUrls.Root(context) + JwksPath;
            document["token_endpoint"] = SmartUrls.TokenUrl(context, options);
        }
        else
        {
            var tokenEndpoint = options.TokenUrl;
            if (string.IsNullOrEmpty(tokenEndpoint) && jwt.Get(JwtBearerDefaults.AuthenticationScheme).ConfigurationManager is { } manager)
            {
                try
                {
                    var configuration = await manager.GetConfigurationAsync(context.RequestAborted);
                    tokenEndpoint = (configuration as OpenIdConnectConfiguration)?.TokenEndpoint;
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException)
                {
                    tokenEndpoint = null;
                }
            }

            if (string.IsNullOrEmpty(tokenEndpoint))
            {
                return Results.Json(new { error = "temporarily_unavailable", error_description = "The external authorization server's metadata cannot be read; set Auth:TokenUrl." },
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            document["issuer"] = options.Authority;
            document["token_endpoint"] = tokenEndpoint;
        }

        document["grant_types_supported"] = new JsonArray("client_credentials");
        document["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt");
        document["token_endpoint_auth_signing_alg_values_supported"] = new JsonArray(SecurityAlgorithms.RsaSha384, SecurityAlgorithms.EcdsaSha384);
        document["scopes_supported"] = new JsonArray([.. ScopesSupported.Select(s => (JsonNode)s)]);
        document["capabilities"] = new JsonArray("client-confidential-asymmetric", "permission-v2", "permission-v1");
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Text(document.ToJsonString(), "application/json");
    }
}

/// <summary>
/// <c>POST /auth/token</c>: the client_credentials grant with a private_key_jwt client assertion (SMART Backend
/// Services). Granted scopes are the intersection of the requested and the registered ones: a requested scope beyond
/// the registration is reduced or dropped (SMART lets the server grant fewer; the response's <c>scope</c> says what
/// was granted), and only when nothing at all remains is the request refused with <c>invalid_scope</c>. A sponsor's
/// grant never carries create, update or delete, whatever its registration says.
/// </summary>
public static class SmartTokenEndpoint
{
    public static async Task HandleAsync(HttpContext context, ClientAssertionValidator validator, AccessTokenIssuer issuer,
        AuthOptions options, ILogger<ClientAssertionValidator> logger)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        try
        {
            var (client, granted) = await AuthenticateAsync(context, validator, options);
            var (token, expiresIn) = issuer.Issue(client, granted, SmartUrls.Issuer(context, options), SmartUrls.Audience(context, options));
            logger.LogInformation("Access token issued to client {ClientId} (role {Role}, site {Site}) for {Scope}", client.Id, client.Role, client.Site, granted.ToString());
            await context.Response.WriteAsJsonAsync(new TokenResponse(token, "bearer", expiresIn, granted.ToString()), context.RequestAborted);
        }
        catch (OAuthException ex)
        {
            context.Response.StatusCode = ex.Status;
            await context.Response.WriteAsJsonAsync(new ErrorResponse(ex.Error, ex.Message), context.RequestAborted);
        }
    }

    private static async Task<(ClientRegistration Client, SmartScopeSet Granted)> AuthenticateAsync(
        HttpContext context, ClientAssertionValidator validator, AuthOptions options)
    {
        if (!context.Request.HasFormContentType)
        {
            throw OAuthException.InvalidRequest("The token request must be application/x-www-form-urlencoded.");
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException ex)
        {
            throw OAuthException.InvalidRequest($"The form cannot be read: {ex.Message}");
        }

        var grantType = Single(form, "grant_type");
        if (string.IsNullOrEmpty(grantType))
        {
            throw OAuthException.InvalidRequest("grant_type is missing.");
        }

        if (grantType != "client_credentials")
        {
            throw new OAuthException("unsupported_grant_type", $"Only client_credentials is supported, not '{grantType}'.");
        }

        var assertionType = Single(form, "client_assertion_type");
        var assertion = Single(form, "client_assertion");
        if (assertionType != BackendServicesToken.AssertionType || string.IsNullOrEmpty(assertion))
        {
            throw OAuthException.InvalidClient(
                $"Authenticate with a signed JWT: client_assertion_type={BackendServicesToken.AssertionType} and client_assertion (private_key_jwt).");
        }

        var client = await validator.ValidateAsync(assertion, SmartUrls.TokenUrl(context, options), context.RequestAborted);

        var scope = Single(form, "scope");
        if (string.IsNullOrWhiteSpace(scope))
        {
            throw OAuthException.InvalidRequest("scope is missing (for example scope=system/Observation.rs).");
        }

        SmartScopeSet requested;
        try
        {
            requested = SmartScopeSet.Parse(scope);
        }
        catch (SmartScopeException ex)
        {
            throw OAuthException.InvalidScope(ex.Message);
        }

        var registered = client.ScopeSet();
        if (client.Role == ClientRole.Sponsor)
        {
            registered = registered.Without(Interaction.Create | Interaction.Update | Interaction.Delete);
        }

        var granted = registered.Intersect(requested);
        if (granted.IsEmpty)
        {
            throw OAuthException.InvalidScope($"None of the requested scopes is registered for client '{client.Id}' (registered: {registered}).");
        }

        return (client, granted);
    }

    /// <summary>A form parameter given at most once (RFC 6749 §3.2: parameters must not be repeated).</summary>
    private static string? Single(IFormCollection form, string name)
    {
        var values = form[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw OAuthException.InvalidRequest($"{name} is given more than once."),
        };
    }

    private sealed record TokenResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("scope")] string Scope);

    private sealed record ErrorResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
        [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string Description);
}
