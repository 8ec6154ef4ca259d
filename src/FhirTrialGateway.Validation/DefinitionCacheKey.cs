using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Firely.Fhir.Validation;
using Firely.Fhir.Validation.Compilation;
using Hl7.Fhir.Specification.Snapshot;
using Hl7.Fhir.Specification.Source;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Names the on-disk definition cache for one set of conformance sources: a hash of the SDK versions that generate
/// snapshots and correct core definitions, the core specification zip, and every file of the local packages in
/// resolution order. Anything that could change a generated snapshot changes the key, so a cache is never reused for
/// other sources; it is simply not found and a new one is filled.
/// </summary>
internal static class DefinitionCacheKey
{
    // Bump when the layout or the content of cache entries changes. 2: entries written before snapshot generation took
    // turns may hold a definition completed by two threads at once.
    private const string FormatVersion = "definition-cache-2";

    public static string Compute(IEnumerable<string> localFolders, string? coreZipPath)
    {
        var text = new StringBuilder();
        text.AppendLine(FormatVersion);
        foreach (var assembly in new[]
                 {
                     typeof(SnapshotGenerator).Assembly, typeof(ResolverResult).Assembly,
                     typeof(StructureDefinitionCorrectionsResolver).Assembly, typeof(Validator).Assembly,
                 })
        {
            text.Append(assembly.GetName().Name).Append('=')
                .AppendLine(assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
        }

        // The zip is named by the SDK version too, but hashing it (a few MB, milliseconds) also catches a swapped file.
        text.Append("core=").AppendLine(coreZipPath is not null && File.Exists(coreZipPath) ? HashFile(coreZipPath) : "none");
        foreach (var folder in localFolders)
        {
            text.AppendLine("source");
            foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                text.Append(Path.GetFileName(file)).Append('=').AppendLine(HashFile(file));
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..24];
    }

    private static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
