using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Turns a FHIR package (an npm-style <c>.tgz</c>, or a folder) into a flat folder of conformance resources that a
/// <c>DirectorySource</c> can index. The Firely SDK's own package reader (Firely.Fhir.Packages) is not available
/// from our package registry, and a package is only a tarball with JSON files under <c>package/</c>, so we unpack it.
/// </summary>
internal static class FhirPackageFolder
{
    /// <summary>The folder holding the package's resources: the unpacked tarball, <c>folder/package</c>, or the folder.</summary>
    public static string Resolve(string path, string cacheRoot)
    {
        if (Directory.Exists(path))
        {
            var inner = Path.Combine(path, "package");
            return Directory.Exists(inner) ? inner : path;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"FHIR package '{path}' does not exist.", path);
        }

        return Unpack(path, cacheRoot);
    }

    /// <summary>The packages an operator dropped into a folder: every <c>.tgz</c> and every sub-folder, in name order.</summary>
    public static IEnumerable<string> ListPackages(string packagesFolder) =>
        Directory.EnumerateFiles(packagesFolder, "*.tgz")
            .Concat(Directory.EnumerateDirectories(packagesFolder))
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .Order(StringComparer.Ordinal);

    private static string Unpack(string tgz, string cacheRoot)
    {
        // Keyed by content: a replaced package with the same name is unpacked again, an unchanged one is reused.
        string hash;
        using (var file = File.OpenRead(tgz))
        {
            hash = Convert.ToHexString(SHA256.HashData(file))[..16];
        }

        var target = Path.Combine(cacheRoot, "packages", $"{Path.GetFileNameWithoutExtension(tgz)}-{hash}");
        var done = Path.Combine(target, ".unpacked");
        if (File.Exists(done))
        {
            return target;
        }

        var staging = target + "." + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        using (var file = File.OpenRead(tgz))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                // Only top-level resources of package/ are conformance resources (examples/, other/ are not), and taking
                // the bare file name means no entry can write outside the staging folder.
                var name = entry.Name.Replace('\\', '/');
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) ||
                    !name.StartsWith("package/", StringComparison.Ordinal) || name.Count(c => c == '/') != 1 ||
                    !name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                entry.ExtractToFile(Path.Combine(staging, Path.GetFileName(name)), overwrite: true);
            }
        }

        File.WriteAllText(Path.Combine(staging, ".unpacked"), tgz);
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (File.Exists(done))
        {
            // Another process unpacked the same package at the same time; theirs is as good as ours.
            Directory.Delete(staging, recursive: true);
        }

        return target;
    }
}
