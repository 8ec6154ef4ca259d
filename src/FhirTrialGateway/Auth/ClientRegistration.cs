using System.Text.Json;
using System.Text.Json.Serialization;
using FhirTrialGateway.Mapping.Smart;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Auth;

/// <summary>What a client may be: a hospital site pushing data, a sponsor pulling it (read/search only), an administrator.</summary>
public enum ClientRole
{
    Hospital,
    Sponsor,
    Admin,
}

/// <summary>
/// A registered SMART Backend Services client: its id (the assertion's iss and sub), its public keys (inline JWKS or a
/// JWKS URL), the scopes it may be granted, its role and, for hospitals, its site. Bound from configuration
/// (<c>Auth:Clients:0:Id</c> ...) and from the registry file (<c>clients.json</c>) with the same shape.
/// </summary>
public sealed class ClientRegistration
{
    public string Id { get; set; } = "";

    public ClientRole Role { get; set; } = ClientRole.Hospital;

    /// <summary>The trial site this client belongs to (hospitals: required; sponsors and admins: optional).</summary>
    public string? Site { get; set; }

    /// <summary>Registered scopes, e.g. ["system/Observation.cruds", "system/Patient.rs"].</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>Inline public JWKS as JSON text ({"keys":[...]}); in the registry file an object is accepted too.</summary>
    [JsonConverter(typeof(RawJsonTextConverter))]
    public string? Jwks { get; set; }

    /// <summary>Where the client publishes its JWKS (https; http only for loopback). Fetched only from this URL.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>Checks the registration; throws <see cref="InvalidOperationException"/> naming the problem.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Id) || Id.Length > 200 || Id.Any(char.IsControl) || Id.Contains(' ', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Client id '{Id}' must be 1 to 200 characters without spaces.");
        }

        if (!Enum.IsDefined(Role))
        {
            throw new InvalidOperationException($"Client '{Id}': role must be hospital, sponsor or admin.");
        }

        if (Role == ClientRole.Hospital && string.IsNullOrWhiteSpace(Site))
        {
            throw new InvalidOperationException($"Client '{Id}': a hospital client must name its site.");
        }

        SmartScopeSet scopes;
        try
        {
            scopes = SmartScopeSet.Parse(Scopes);
        }
        catch (SmartScopeException ex)
        {
            throw new InvalidOperationException($"Client '{Id}': {ex.Message}", ex);
        }

        if (scopes.IsEmpty)
        {
            throw new InvalidOperationException($"Client '{Id}': register at least one scope.");
        }

        if (Role == ClientRole.Sponsor && scopes.AnyGrants(Interaction.Create | Interaction.Update | Interaction.Delete))
        {
            throw new InvalidOperationException(
                $"Client '{Id}': a sponsor may only hold read and search scopes (r, s, .read); '{string.Join(' ', Scopes)}' grants create, update or delete.");
        }

        if (string.IsNullOrWhiteSpace(Jwks) == string.IsNullOrWhiteSpace(JwksUrl))
        {
            throw new InvalidOperationException($"Client '{Id}': give exactly one of a JWKS (public keys) or a JWKS URL.");
        }

        if (!string.IsNullOrWhiteSpace(JwksUrl))
        {
            ValidateJwksUrl(Id, JwksUrl);
        }
        else
        {
            ClientKeys.ParsePublicJwks(Jwks!, Id);
        }
    }

    /// <summary>The registered scopes, parsed (the registration has been validated when loaded).</summary>
    public SmartScopeSet ScopeSet() => SmartScopeSet.Parse(Scopes);

    internal static void ValidateJwksUrl(string id, string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            throw new InvalidOperationException($"Client '{id}': the JWKS URL must be an absolute https URL (http only on loopback).");
        }
    }
}

/// <summary>Reads and checks client public keys (JWK, RFC 7517) with Microsoft.IdentityModel's JsonWebKeySet.</summary>
public static class ClientKeys
{
    /// <summary>Parses a public JWKS and checks every key: a kid, RSA ≥ 2048 bits or EC P-384, no private parts, alg RS384/ES384 if given.</summary>
    public static IReadOnlyList<JsonWebKey> ParsePublicJwks(string json, string clientId)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or InvalidOperationException)
        {
            throw new InvalidOperationException($"Client '{clientId}': the JWKS is not a valid JSON Web Key Set ({ex.Message}).", ex);
        }

        if (set.Keys.Count == 0)
        {
            throw new InvalidOperationException($"Client '{clientId}': the JWKS has no keys.");
        }

        foreach (var key in set.Keys)
        {
            CheckPublicKey(key, clientId);
        }

        var duplicate = set.Keys.GroupBy(k => k.Kid, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Client '{clientId}': two keys share the kid '{duplicate.Key}'.");
        }

        return [.. set.Keys];
    }

    /// <summary>True when <paramref name="key"/> can verify a signature made with <paramref name="algorithm"/> (RS384/ES384).</summary>
    public static bool Fits(JsonWebKey key, string algorithm) =>
        (string.IsNullOrEmpty(key.Alg) || key.Alg == algorithm) && algorithm switch
        {
            SecurityAlgorithms.RsaSha384 => key.Kty == JsonWebAlgorithmsKeyTypes.RSA,
            SecurityAlgorithms.EcdsaSha384 => key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && key.Crv == JsonWebKeyECTypes.P384,
            _ => false,
        };

    private static void CheckPublicKey(JsonWebKey key, string clientId)
    {
        if (string.IsNullOrWhiteSpace(key.Kid))
        {
            throw new InvalidOperationException($"Client '{clientId}': every key needs a kid.");
        }

        if (key.HasPrivateKey || !string.IsNullOrEmpty(key.D) || !string.IsNullOrEmpty(key.K))
        {
            throw new InvalidOperationException(
                $"Client '{clientId}': key '{key.Kid}' contains private or symmetric key material. Register only the public key; the private key stays with the client.");
        }

        if (!string.IsNullOrEmpty(key.Alg) && !BackendServicesToken.Algorithms.Contains(key.Alg))
        {
            throw new InvalidOperationException($"Client '{clientId}': key '{key.Kid}' has alg {key.Alg}; only RS384 and ES384 are accepted.");
        }

        var ok = key.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.RSA => !string.IsNullOrEmpty(key.N) && !string.IsNullOrEmpty(key.E) && Base64UrlEncoder.DecodeBytes(key.N).Length >= 256,
            JsonWebAlgorithmsKeyTypes.EllipticCurve => key.Crv == JsonWebKeyECTypes.P384 && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y),
            _ => false,
        };
        if (!ok)
        {
            throw new InvalidOperationException(
                $"Client '{clientId}': key '{key.Kid}' must be RSA of at least 2048 bits (RS384) or EC on P-384 (ES384).");
        }
    }
}

/// <summary>Lets the registry file hold a JWKS either as a JSON object or as a string of JSON.</summary>
internal sealed class RawJsonTextConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        using var document = JsonDocument.Parse(value);
        document.RootElement.WriteTo(writer);
    }
}
