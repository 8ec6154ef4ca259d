using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FhirTrialGateway.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>A client's key pair as a test holds it: the private key to sign with and the public JWKS to register.</summary>
public sealed class TestClientKey
{
    private TestClientKey(AsymmetricAlgorithm key, string algorithm)
    {
        Algorithm = algorithm;
        Kid = JwkFiles.Thumbprint(key);
        PublicJwks = JwkFiles.ToPublicJwks(key, algorithm).ToJsonString();
        SecurityKey = key switch
        {
            ECDsa ec => new ECDsaSecurityKey(ec) { KeyId = Kid },
            RSA rsa => new RsaSecurityKey(rsa) { KeyId = Kid },
            _ => throw new ArgumentException("unsupported"),
        };
    }

    public string Algorithm { get; }

    public string Kid { get; }

    public string PublicJwks { get; }

    public SecurityKey SecurityKey { get; }

    public static TestClientKey Es384() => new(JwkFiles.Generate(SecurityAlgorithms.EcdsaSha384), SecurityAlgorithms.EcdsaSha384);

    public static TestClientKey Rs384() => new(JwkFiles.Generate(SecurityAlgorithms.RsaSha384), SecurityAlgorithms.RsaSha384);
}

/// <summary>Builds client assertions, correct by default, with any one rule broken on demand.</summary>
public sealed record AssertionSpec
{
    public required string ClientId { get; init; }

    public string? Subject { get; init; }

    public required string Audience { get; init; }

    public DateTimeOffset? Expires { get; init; } = DateTimeOffset.UtcNow.AddMinutes(4);

    public string? Jti { get; init; } = Guid.NewGuid().ToString("N");

    public Dictionary<string, object> ExtraHeader { get; init; } = [];

    public string Sign(SecurityKey key, string algorithm)
    {
        var payload = new JsonObject
        {
            ["iss"] = ClientId,
            ["sub"] = Subject ?? ClientId,
            ["aud"] = Audience,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (Expires is { } expires)
        {
            payload["exp"] = expires.ToUnixTimeSeconds();
        }

        if (Jti is not null)
        {
            payload["jti"] = Jti;
        }

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return ExtraHeader.Count == 0
            ? handler.CreateToken(payload.ToJsonString(), new SigningCredentials(key, algorithm))
            : handler.CreateToken(payload.ToJsonString(), new SigningCredentials(key, algorithm), ExtraHeader);
    }

    /// <summary>An unsigned token: header {"alg":"none","kid":...}, empty signature.</summary>
    public string WithoutSignature(string kid)
    {
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = "JWT", ["kid"] = kid }));
        var payload = Base64UrlEncoder.Encode(new JsonObject
        {
            ["iss"] = ClientId,
            ["sub"] = Subject ?? ClientId,
            ["aud"] = Audience,
            ["exp"] = Expires?.ToUnixTimeSeconds(),
            ["jti"] = Jti,
        }.ToJsonString());
        return header + "." + payload + ".";
    }
}

public static class TokenRequests
{
    public static FormUrlEncodedContent Form(string assertion, string scope, string grantType = "client_credentials",
        string assertionType = BackendServicesToken.AssertionType) =>
        new(new Dictionary<string, string>
        {
            ["grant_type"] = grantType,
            ["scope"] = scope,
            ["client_assertion_type"] = assertionType,
            ["client_assertion"] = assertion,
        });

    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, HttpContent form)
    {
        var response = await http.PostAsync("auth/token", form);
        var text = await response.Content.ReadAsStringAsync();
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json", text);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static HttpRequestMessage Get(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}

/// <summary>A registered test client talking to the gateway with a real token: get one, then send FHIR requests with it.</summary>
public static class AuthorizedCalls
{
    public static async Task<string> TokenAsync(HttpClient http, Uri gatewayBase, TestClientKey key, string client, string scope)
    {
        var assertion = new AssertionSpec { ClientId = client, Audience = new Uri(gatewayBase, "auth/token").ToString() }
            .Sign(key.SecurityKey, key.Algorithm);
        var (status, body) = await TokenRequests.PostAsync(http, TokenRequests.Form(assertion, scope));
        status.Should().Be(200, body.ToString());
        return body.GetProperty("access_token").GetString()!;
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, string token, HttpMethod method, string path,
        Hl7.Fhir.Model.Resource? body = null, string? ifNoneExist = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = Infrastructure.TestGateway.Json(Infrastructure.TestData.ToJson(body));
        }

        if (ifNoneExist is not null)
        {
            request.Headers.Add("If-None-Exist", ifNoneExist);
        }

        return await http.SendAsync(request);
    }
}

/// <summary>Gateway settings for the suites that call with real tokens: authentication on, rate limits out of the way.</summary>
public static class AuthSettings
{
    public static string[] SecuredWith(params string[][] clients) =>
    [
        "Auth:Enabled=true",
        "RateLimit:TokenPermitsPerMinute=10000", "RateLimit:ApiPermitsPerSecond=10000", "RateLimit:ApiBurst=10000",
        .. clients.SelectMany(client => client),
    ];

    /// <summary>A client registered in configuration at <paramref name="index"/> (Auth:Clients:index:...).</summary>
    public static string[] Client(int index, string id, string role, string? site, string scope, TestClientKey key) =>
    [
        $"Auth:Clients:{index}:Id={id}", $"Auth:Clients:{index}:Role={role}",
        .. site is null ? Array.Empty<string>() : [$"Auth:Clients:{index}:Site={site}"],
        $"Auth:Clients:{index}:Scopes:0={scope}", $"Auth:Clients:{index}:Jwks={key.PublicJwks}",
    ];
}
