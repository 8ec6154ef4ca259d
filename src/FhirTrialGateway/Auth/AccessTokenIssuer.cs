using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Auth;

/// <summary>Claim names of the gateway's access tokens (also read from an external issuer's tokens).</summary>
public static class GatewayClaims
{
    public const string ClientId = "client_id";
    public const string Scope = "scope";
    public const string Role = "role";
    public const string Site = "site";
}

/// <summary>
/// Signs the built-in server's access tokens: a JWT (RFC 9068 "at+jwt") with iss (the gateway), aud (the FHIR base),
/// sub and client_id, scope, role, site, jti, iat, nbf and exp, valid at most 5 minutes. No refresh tokens exist.
/// </summary>
public sealed class AccessTokenIssuer(GatewaySigningKey signing, AuthOptions options, TimeProvider time)
{
    public const string TokenType = "at+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public (string Token, int ExpiresIn) Issue(ClientRegistration client, SmartScopeSet scopes, string issuer, string audience)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var lifetime = options.TokenLifetime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = client.Id,
            [GatewayClaims.ClientId] = client.Id,
            [GatewayClaims.Scope] = scopes.ToString(),
            [GatewayClaims.Role] = client.Role.ToString().ToLowerInvariant(),
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
        if (!string.IsNullOrEmpty(client.Site))
        {
            claims[GatewayClaims.Site] = client.Site;
        }

        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            TokenType = TokenType,
            Claims = claims,
            SigningCredentials = signing.Credentials,
        });
        return (token, (int)lifetime.TotalSeconds);
    }
}
