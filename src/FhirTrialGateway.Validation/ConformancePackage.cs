using Firely.Fhir.Validation.Compilation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

namespace FhirTrialGateway.Validation;

/// <summary>
/// The conformance resources the validator knows: the trial's package folder, the R4 core definitions and any
/// operator-supplied FHIR packages, behind one caching, snapshot-generating resolver.
/// </summary>
internal sealed class ConformancePackage
{
    private static readonly DirectorySourceSettings PackageLayout = new()
    {
        // FHIR package layout: resources at the top level; examples/ below must not be loaded as definitions,
        // and package.json / .index.json are package metadata, not resources.
        IncludeSubDirectories = false,
        Masks = ["*.json"],
        Excludes = ["package.json", ".index.json"],
    };

    private ConformancePackage(IReadOnlyList<DirectorySource> localSources, CachedResolver resolver,
        CachedResolver definitions, string? profilesPath)
    {
        LocalSources = localSources;
        Resolver = resolver;
        Definitions = definitions;
        ProfilesPath = profilesPath;
    }

    /// <summary>Everything the validator resolves through: cached, with snapshots generated on demand.</summary>
    public CachedResolver Resolver { get; }

    /// <summary>
    /// The same definitions as they are written (no snapshot generation), for look-ups that must be safe on any
    /// thread at any time, such as "is this profile known?".
    /// </summary>
    public CachedResolver Definitions { get; }

    /// <summary>The trial package folder and the operator's packages (not the core definitions).</summary>
    public IReadOnlyList<DirectorySource> LocalSources { get; }

    public string? ProfilesPath { get; }

    public static ConformancePackage Load(string? profilesPath, IEnumerable<string> packagePaths, string cacheRoot, ZipSource core)
    {
        var local = new List<DirectorySource>();
        if (profilesPath is not null)
        {
            local.Add(new DirectorySource(profilesPath, PackageLayout));
        }

        foreach (var package in packagePaths)
        {
            local.Add(new DirectorySource(FhirPackageFolder.Resolve(package, cacheRoot), PackageLayout));
        }

        // The trial package comes first so that its definitions win; the core zip next, then operator packages.
        var sources = new List<IAsyncResourceResolver>();
        if (profilesPath is not null)
        {
            sources.Add(local[0]);
        }

        sources.Add(core);
        sources.AddRange(local.Skip(profilesPath is null ? 0 : 1));

        // StructureDefinitionCorrectionsResolver sits below the SnapshotSource so that Firely's fixes of core
        // definitions (ref-1 of Reference, among others) are inherited by the snapshots of our profiles; without it a
        // display-only reference inside a contained resource fails ref-1 (firely-validator-api issue #366).
        var all = new MultiResolver(sources);
        var resolver = new CachedResolver(new SnapshotSource(new StructureDefinitionCorrectionsResolver(all)));
        return new ConformancePackage(local, resolver, new CachedResolver(all), profilesPath);
    }

    /// <summary>Looks a definition up as written (no snapshot generation); null when unknown.</summary>
    public Resource? FindDefinition(string canonical) =>
        // DirectorySource and ZipSource answer synchronously, so waiting here does not block on I/O of other tasks.
        Definitions.TryResolveByCanonicalUriAsync(canonical).GetAwaiter().GetResult().Value;

    /// <summary>Looks a definition up with its snapshot generated (and cached); null when unknown.</summary>
    public Resource? FindWithSnapshot(string canonical) =>
        Resolver.TryResolveByCanonicalUriAsync(canonical).GetAwaiter().GetResult().Value;

    /// <summary>Canonical URLs of the StructureDefinitions the local packages hold (profiles and extensions).</summary>
    public IReadOnlyList<string> ListStructureDefinitions() =>
        LocalSources.SelectMany(s => s.ListResourceUris(ResourceType.StructureDefinition))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
}
