using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Mapping.Smart;

/// <summary>
/// A private JWK file (RFC 7517) as <c>fhirgw clients add</c> writes it for a site, or the gateway's own signing key.
/// Here, not in the gateway, because the import signs client assertions with it too.
/// </summary>
public static class PrivateKeyFile
{
    /// <summary>Reads a private JWK file (as written by <c>fhirgw clients add</c>) into a signing key with its kid and alg.</summary>
    public static (SecurityKey Key, string Algorithm) Read(string path, string? defaultAlgorithm = null)
    {
        var jwk = JsonWebKey.Create(File.ReadAllText(path));
        if (string.IsNullOrEmpty(jwk.D))
        {
            throw new InvalidOperationException($"{path} holds no private key (no 'd').");
        }

        var algorithm = !string.IsNullOrEmpty(jwk.Alg) ? jwk.Alg
            : defaultAlgorithm ?? throw new InvalidOperationException($"{path} does not say its algorithm (alg).");
        SecurityKey key = jwk.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.EllipticCurve => new ECDsaSecurityKey(ECDsa.Create(new ECParameters
            {
                Curve = jwk.Crv switch
                {
                    JsonWebKeyECTypes.P384 => ECCurve.NamedCurves.nistP384,
                    JsonWebKeyECTypes.P256 => ECCurve.NamedCurves.nistP256,
                    _ => throw new InvalidOperationException($"{path}: unsupported curve {jwk.Crv}."),
                },
                Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
                D = Base64UrlEncoder.DecodeBytes(jwk.D),
            })),
            JsonWebAlgorithmsKeyTypes.RSA => new RsaSecurityKey(new RSAParameters
            {
                Modulus = Base64UrlEncoder.DecodeBytes(jwk.N),
                Exponent = Base64UrlEncoder.DecodeBytes(jwk.E),
                D = Base64UrlEncoder.DecodeBytes(jwk.D),
                P = Base64UrlEncoder.DecodeBytes(jwk.P),
                Q = Base64UrlEncoder.DecodeBytes(jwk.Q),
                DP = Base64UrlEncoder.DecodeBytes(jwk.DP),
                DQ = Base64UrlEncoder.DecodeBytes(jwk.DQ),
                InverseQ = Base64UrlEncoder.DecodeBytes(jwk.QI),
            }),
            _ => throw new InvalidOperationException($"{path}: unsupported key type {jwk.Kty}."),
        };
        key.KeyId = jwk.Kid;
        return (key, algorithm);
    }
}
