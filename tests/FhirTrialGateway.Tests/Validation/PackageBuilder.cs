using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>Writes small FHIR package tarballs for tests.</summary>
internal static class PackageBuilder
{
    public static void WriteTgz(string path, params (string Name, string Content)[] files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in files)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            };
            tar.WriteEntry(entry);
        }
    }
}
