using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Mapping.Smart;

/// <summary>The token endpoint's answer: the status and body as sent, and the token when it granted one.</summary>
public sealed record TokenAnswer(int Status, string Body, string? AccessToken, TimeSpan ExpiresIn)
{
    public bool IsSuccess => AccessToken is not null;
}

/// <summary>
/// The client side of SMART Backend Services (client_credentials with a private_key_jwt assertion): discovery of the
/// token endpoint, the signed assertion and the token request. Used by <c>fhirgw clients token</c> and by the import;
/// the gateway checks the same assertion (<see cref="AssertionType"/>, <see cref="Algorithms"/>).
/// </summary>
public static class BackendServicesToken
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>The algorithms SMART Backend Services allows for client assertions.</summary>
    public static readonly IReadOnlySet<string> Algorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        SecurityAlgorithms.RsaSha384, SecurityAlgorithms.EcdsaSha384,
    };

    /// <summary>
    /// A client assertion: iss = sub = the client id, aud = the token URL, exp 4 minutes ahead, a fresh jti, signed
    /// with the key file's algorithm and its kid in the header.
    /// </summary>
    public static string CreateAssertion(string clientId, string privateKeyFile, string tokenUrl, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var (key, algorithm) = PrivateKeyFile.Read(privateKeyFile);
        if (!Algorithms.Contains(algorithm))
        {
            throw new InvalidOperationException($"{privateKeyFile}: client assertions are signed with RS384 or ES384, not {algorithm}.");
        }

        return CreateAssertion(clientId, key, algorithm, tokenUrl, time);
    }

    /// <summary>The same assertion signed with a key already in memory (its KeyId is the kid).</summary>
    public static string CreateAssertion(string clientId, SecurityKey key, string algorithm, string tokenUrl, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = tokenUrl,
            IssuedAt = now,
            Expires = now.AddMinutes(4),
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = clientId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    /// <summary>POSTs the client_credentials grant with <paramref name="assertion"/> to <paramref name="tokenUrl"/>.</summary>
    public static async Task<TokenAnswer> RequestAsync(HttpClient http, Uri tokenUrl, string assertion, string scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["scope"] = scope,
            ["client_assertion_type"] = AssertionType,
            ["client_assertion"] = assertion,
        });
        using var response = await http.PostAsync(tokenUrl, form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return new TokenAnswer((int)response.StatusCode, body, null, TimeSpan.Zero);
        }

        using var json = JsonDocument.Parse(body);
        var token = json.RootElement.TryGetProperty("access_token", out var value) ? value.GetString() : null;
        var expires = json.RootElement.TryGetProperty("expires_in", out var seconds) && seconds.TryGetInt32(out var s) ? TimeSpan.FromSeconds(s) : TimeSpan.FromMinutes(5);
        return new TokenAnswer((int)response.StatusCode, body, token, expires);
    }

    /// <summary>The token endpoint a FHIR server announces in <c>[base]/.well-known/smart-configuration</c>.</summary>
    public static async Task<Uri> DiscoverTokenEndpointAsync(HttpClient http, Uri fhirBase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(fhirBase);
        var discovery = new Uri(fhirBase.ToString().TrimEnd('/') + "/.well-known/smart-configuration");
        using var response = await http.GetAsync(discovery, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{discovery} answered {(int)response.StatusCode}: the server does not announce SMART Backend Services.");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("token_endpoint", out var endpoint) && Uri.TryCreate(endpoint.GetString(), UriKind.Absolute, out var url)
            ? url
            : throw new InvalidOperationException($"{discovery} names no token_endpoint.");
    }
}
