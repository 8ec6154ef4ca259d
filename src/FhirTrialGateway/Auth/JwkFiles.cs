using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Auth;

/// <summary>
/// Key pairs as JSON Web Keys (RFC 7517): generation with the platform's RSA/ECDsa, kid = the RFC 7638 thumbprint
/// (computed by Microsoft.IdentityModel), serialisation of the public half (for registration and the gateway's JWKS)
/// and of the private half (the file a site keeps, or the gateway's own signing key). Reading a private key back is
/// <see cref="FhirTrialGateway.Mapping.Smart.PrivateKeyFile"/>, shared with the import's token client.
/// </summary>
public static class JwkFiles
{
    /// <summary>A new key pair for <paramref name="algorithm"/> (ES384/ES256: EC P-384/P-256; RS384/RS256: RSA 3072).</summary>
    public static AsymmetricAlgorithm Generate(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
        SecurityAlgorithms.EcdsaSha256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        SecurityAlgorithms.RsaSha384 or SecurityAlgorithms.RsaSha256 => RSA.Create(3072),
        _ => throw new ArgumentException($"Unsupported key algorithm {algorithm}.", nameof(algorithm)),
    };

    /// <summary>The JWK of <paramref name="key"/>, with kid (thumbprint) and alg; private parameters only when asked for.</summary>
    public static JsonObject ToJwk(AsymmetricAlgorithm key, string algorithm, bool includePrivate)
    {
        var jwk = new JsonObject();
        switch (key)
        {
            case ECDsa ec:
            {
                var p = ec.ExportParameters(includePrivate);
                jwk["kty"] = "EC";
                jwk["crv"] = ec.KeySize switch
                {
                    384 => "P-384",
                    256 => "P-256",
                    var other => throw new ArgumentException($"Unsupported curve size {other}.", nameof(key)),
                };
                jwk["x"] = Base64UrlEncoder.Encode(p.Q.X);
                jwk["y"] = Base64UrlEncoder.Encode(p.Q.Y);
                if (includePrivate)
                {
                    jwk["d"] = Base64UrlEncoder.Encode(p.D);
                }

                break;
            }

            case RSA rsa:
            {
                var p = rsa.ExportParameters(includePrivate);
                jwk["kty"] = "RSA";
                jwk["n"] = Base64UrlEncoder.Encode(p.Modulus);
                jwk["e"] = Base64UrlEncoder.Encode(p.Exponent);
                if (includePrivate)
                {
                    jwk["d"] = Base64UrlEncoder.Encode(p.D);
                    jwk["p"] = Base64UrlEncoder.Encode(p.P);
                    jwk["q"] = Base64UrlEncoder.Encode(p.Q);
                    jwk["dp"] = Base64UrlEncoder.Encode(p.DP);
                    jwk["dq"] = Base64UrlEncoder.Encode(p.DQ);
                    jwk["qi"] = Base64UrlEncoder.Encode(p.InverseQ);
                }

                break;
            }

            default:
                throw new ArgumentException($"Unsupported key type {key.GetType().Name}.", nameof(key));
        }

        jwk["kid"] = Thumbprint(key);
        jwk["alg"] = algorithm;
        jwk["use"] = "sig";
        return jwk;
    }

    /// <summary>{"keys":[public JWK]}.</summary>
    public static JsonObject ToPublicJwks(AsymmetricAlgorithm key, string algorithm) =>
        new() { ["keys"] = new JsonArray(ToJwk(key, algorithm, includePrivate: false)) };

    /// <summary>The RFC 7638 thumbprint of the public key, base64url: a stable kid.</summary>
    public static string Thumbprint(AsymmetricAlgorithm key)
    {
        var jwk = key switch
        {
            ECDsa ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ec)),
            RSA rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false))),
            _ => throw new ArgumentException($"Unsupported key type {key.GetType().Name}.", nameof(key)),
        };
        return Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
    }

    /// <summary>Writes a private JWK for its owner only (mode 600 on Unix); refuses to overwrite an existing file.</summary>
    public static void WritePrivateKey(string path, AsymmetricAlgorithm key, string algorithm)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var bytes = System.Text.Encoding.UTF8.GetBytes(ToJwk(key, algorithm, includePrivate: true).ToJsonString(ClientRegistryFile.Json) + "\n");
        SecretFiles.WriteAllBytes(full, bytes, ownerOnly: true);
    }
}
