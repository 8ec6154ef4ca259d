using System.Security.Cryptography;
using System.Text;

namespace FhirTrialGateway.Mapping;

/// <summary>
/// Deterministic ids and UUIDs derived from business keys, so that the same input always produces the same bundle
/// (byte for byte) and a re-import addresses the same resources.
/// </summary>
public static class Ids
{
    /// <summary>A FHIR id: the prefix and the first 20 hex digits of SHA-256 over the key parts.</summary>
    public static string Hashed(string prefix, params string?[] parts) => prefix + "-" + Hex(parts)[..20];

    /// <summary>A urn:uuid full URL for a bundle entry, stable for the same key.</summary>
    public static string Urn(params string?[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        // RFC 9562 version 8 (custom) layout: keep the version and variant bits valid.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return "urn:uuid:" + new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    /// <summary>
    /// A readable FHIR id from key parts: their letters and digits (at most 47 characters) and a hash of the exact
    /// parts, so two different keys never share an id even when they read alike ("P-1" and "P.1").
    /// </summary>
    public static string Readable(params string[] parts)
    {
        var text = new StringBuilder();
        foreach (var c in string.Join("-", parts))
        {
            text.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        var readable = text.Length > 47 ? text.ToString(0, 47) : text.ToString();
        return $"{readable}-{Hex(parts)[..16]}";
    }

    private static string Hex(string?[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts.Select(p => p ?? "")))));
}
