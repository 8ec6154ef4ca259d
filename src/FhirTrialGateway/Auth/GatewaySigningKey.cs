using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Auth;

/// <summary>
/// The key the built-in authorization server signs access tokens with (ES256 by default, RS256 on request). Generated
/// at first start and kept as a private JWK beside the SQLite file (owner-only permissions), or read from a configured
/// file (<c>Auth:SigningKeyFile</c>), so tokens survive a restart. The public half is served at <c>/auth/jwks</c>.
/// </summary>
public sealed class GatewaySigningKey
{
    public const string DefaultFileName = "token-signing-key.json";

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi"];

    private GatewaySigningKey(SecurityKey key, string algorithm, JsonObject publicJwks)
    {
        Key = key;
        Algorithm = algorithm;
        PublicJwks = publicJwks;
    }

    /// <summary>The private key (signs; the JwtBearer handler verifies with it too).</summary>
    public SecurityKey Key { get; }

    /// <summary>ES256 or RS256.</summary>
    public string Algorithm { get; }

    public string KeyId => Key.KeyId;

    /// <summary>{"keys":[the public JWK]}.</summary>
    public JsonObject PublicJwks { get; }

    public SigningCredentials Credentials => new(Key, Algorithm);

    /// <summary>Reads the key file, or creates it with a new <paramref name="algorithm"/> key when it does not exist.</summary>
    public static GatewaySigningKey LoadOrCreate(string path, string algorithm, ILogger? logger = null)
    {
        if (algorithm is not (SecurityAlgorithms.EcdsaSha256 or SecurityAlgorithms.RsaSha256))
        {
            throw new InvalidOperationException($"Auth:SigningAlgorithm must be ES256 or RS256, not '{algorithm}'.");
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            using var generated = JwkFiles.Generate(algorithm);
            try
            {
                JwkFiles.WritePrivateKey(full, generated, algorithm);
                logger?.LogInformation("Generated the token signing key {KeyId} ({Algorithm}) in {File}", JwkFiles.Thumbprint(generated), algorithm, full);
            }
            catch (IOException) when (File.Exists(full))
            {
                // Another instance created it first: use theirs.
            }
        }

        var (key, alg) = PrivateKeyFile.Read(full);
        if (alg is not (SecurityAlgorithms.EcdsaSha256 or SecurityAlgorithms.RsaSha256))
        {
            throw new InvalidOperationException($"{full}: the token signing key must be ES256 or RS256, not {alg}.");
        }

        var jwk = JsonNode.Parse(File.ReadAllText(full))!.AsObject();
        foreach (var member in PrivateMembers)
        {
            jwk.Remove(member);
        }

        return new GatewaySigningKey(key, alg, new JsonObject { ["keys"] = new JsonArray(jwk) });
    }
}
