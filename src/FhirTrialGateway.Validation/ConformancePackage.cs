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
        CachedResolver definitions, string? profilesPath, DefinitionCache? diskCache)
    {
        LocalSources = localSources;
        Resolver = resolver;
        Definitions = definitions;
        ProfilesPath = profilesPath;
        DiskCache = diskCache;
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

    /// <summary>The on-disk cache of resolved definitions; null when disabled.</summary>
    public DefinitionCache? DiskCache { get; }

    /// <param name="cacheRoot">Where .tgz packages are unpacked and, unless <paramref name="persistDefinitions"/> is false,
    /// resolved definitions are kept between runs (under definitions/, one folder per set of sources).</param>
    public static ConformancePackage Load(string? profilesPath, IEnumerable<string> packagePaths, string cacheRoot, ZipSource core,
        bool persistDefinitions = true)
    {
        var folders = new List<string>();
        if (profilesPath is not null)
        {
            folders.Add(profilesPath);
        }

        folders.AddRange(packagePaths.Select(package => FhirPackageFolder.Resolve(package, cacheRoot)));
        var local = folders.Select(folder => new DirectorySource(folder, PackageLayout)).ToList();

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
        //
        // The CachedResolver below the SnapshotSource matters: the snapshot generator resolves the base and the type of
        // every element through its source, and the core definitions come out of large XML bundles, read again on each
        // uncached look-up (measured: 1,589 look-ups and 16 s for the first trial Observation, 82 and 5 s cached).
        var all = new MultiResolver(sources);
        // That cache shares instances which the generator completes in place, so generation takes turns (see
        // OneAtATimeResolver).
        var generated = new OneAtATimeResolver(new SnapshotSource(new CachedResolver(new StructureDefinitionCorrectionsResolver(all))));
        var diskCache = persistDefinitions
            ? DefinitionCache.Open(Path.Combine(cacheRoot, "definitions"), DefinitionCacheKey.Compute(folders, core.ZipPath), generated)
            : null;
        var resolver = new CachedResolver(diskCache ?? (IAsyncResourceResolver)generated);
        return new ConformancePackage(local, resolver, new CachedResolver(all), profilesPath, diskCache);
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
