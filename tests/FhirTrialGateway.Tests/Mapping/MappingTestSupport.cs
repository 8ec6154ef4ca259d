using System.Collections.Concurrent;
using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Tests.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>Paths of the trial mapping, fixtures and shared data; a sink that keeps bundles in memory.</summary>
internal static class MappingTestSupport
{
    public static string RepoRoot { get; } = Path.GetDirectoryName(SharedValidators.ProfilesPath)!;

    /// <summary>../shared/data beside the repository: real registry records and EDC samples (not in git).</summary>
    public static string SharedData { get; } = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    public static string EpcMapping => Path.Combine(RepoRoot, "trials", "epc-cli", "mapping.json");

    public static string EpcRecord => Path.Combine(RepoRoot, "trials", "epc-cli", "NCT06359912.ctgov.json");

    public static string Sample(string name) => Path.Combine(RepoRoot, "tests", "FhirTrialGateway.Tests", "Mapping", "Samples", name);

    public static ResourceChecker Checker { get; } = new(SharedValidators.Default);

    public static void SkipWithoutSharedData(string relative)
    {
        var path = Path.Combine(SharedData, relative);
        Skip.IfNot(Directory.Exists(path) || File.Exists(path),
            $"{path} is missing: these tests need the shared trial data folder (../shared/data beside the repository).");
    }

    public static string TempFile(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "fhirgw-mapping-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}

internal sealed class CollectingSink : IBundleSink
{
    public ConcurrentDictionary<string, Bundle> Bundles { get; } = new(StringComparer.Ordinal);

    public Task<SendResult> SendAsync(string key, Bundle bundle, CancellationToken cancellationToken)
    {
        Bundles[key] = bundle;
        return System.Threading.Tasks.Task.FromResult(new SendResult(0, 0, 0, bundle.Entry.Count));
    }

    public IEnumerable<T> All<T>() where T : Resource => Bundles.Values.SelectMany(b => b.Entry).Select(e => e.Resource).OfType<T>();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
