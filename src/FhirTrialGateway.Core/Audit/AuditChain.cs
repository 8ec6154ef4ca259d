using System.Security.Cryptography;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// The hash chain that makes the audit trail tamper-evident: each record's hash covers the previous hash and the
/// record's stored bytes, so editing, removing or reordering any record breaks every hash after it.
/// </summary>
public static class AuditChain
{
    /// <summary>The hash before the first record.</summary>
    public static byte[] Genesis { get; } = new byte[32];

    public static byte[] Next(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> record)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previous);
        hash.AppendData(record);
        return hash.GetHashAndReset();
    }
}
