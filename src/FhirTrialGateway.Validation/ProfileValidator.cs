using System.Collections.Concurrent;
using System.Diagnostics;
using FhirTrialGateway.Core.Fhir;
using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using Hl7.Fhir.Support;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Validates resources against the R4 core definitions, the trial's profiles and operator-supplied packages.
/// One instance per process: it holds the compiled profiles, which are expensive to build and cheap to reuse.
/// Thread-safe once <see cref="Warm"/> has run; before that, first uses of a profile are serialized, because two
/// threads generating the same snapshot at once break Firely's snapshot generator ("Invalid snapshot generator state").
/// </summary>
public sealed class ProfileValidator : IDisposable
{
    private const string CoreBase = "http://hl7.org/fhir/StructureDefinition/";

    /// <summary>The <see cref="ValidationOptions.SnapshotCachePath"/> value that turns the definition cache off.</summary>
    public const string NoCache = "none";

    private readonly ConformancePackage _package;
    private readonly Validator _validator;
    private readonly ValidationOptions _options;
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _compiled = new(StringComparer.Ordinal);
    private readonly Lock _firstUse = new();

    // The validator blocks on async resolvers internally; unbounded parallel callers starve the thread pool, so at
    // most one validation per core runs at a time and the rest queue here: the server's callers asynchronously
    // (ValidateAsync), so that a request waiting for its turn holds no thread.
    private readonly SemaphoreSlim _gate = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly Lazy<IReadOnlyList<string>> _packageProfiles;

    public ProfileValidator(ValidationOptions options, string? contentRoot = null)
        : this(options, contentRoot, null)
    {
    }

    /// <summary>The turns at the validator (one per core); tests take them all to see that a caller waits without blocking.</summary>
    internal SemaphoreSlim Turns => _gate;

    internal ProfileValidator(ValidationOptions options, string? contentRoot, SharedCoreDefinitions? shared)
    {
        _options = options;
        contentRoot ??= Directory.GetCurrentDirectory();
        var cacheRoot = ResolveCacheRoot(options, contentRoot);
        var packages = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.PackagesPath))
        {
            var folder = Path.GetFullPath(options.PackagesPath, contentRoot);
            if (Directory.Exists(folder))
            {
                packages.AddRange(FhirPackageFolder.ListPackages(folder));
            }
        }

        packages.AddRange(options.ExtraPackages.Select(p => Path.GetFullPath(p, contentRoot)));
        _package = ConformancePackage.Load(ResolveProfilesPath(options.ProfilesPath, contentRoot), packages, cacheRoot,
            shared?.Zip ?? ZipSource.CreateValidationSource(), persistDefinitions: options.SnapshotCachePath != NoCache);

        var terminology = new MemoizingTerminologyService(new LocalTerminologyService(_package.Resolver));
        var settings = new ValidationSettings
        {
            // LocalTerminologyService throws for a ValueSet it cannot expand (one including all of LOINC, SNOMED CT,
            // UCUM ...): the validator asks this handler what such a failure is worth.
            HandleValidateCodeServiceFailure = (_, _) => options.UnknownCodeSystems == UnknownCodeSystemPolicy.Error
                ? TerminologyServiceExceptionResult.Error
                : TerminologyServiceExceptionResult.Warning,
            TransformIssues = issue => AdjustSeverity(issue, options.UnknownCodeSystems),
            // The compiler invariants use anyway. Left unset, every validation builds a FHIRPath compiler (and its
            // symbol table) of its own for the slicing discriminators. Firely marks the class experimental; only its
            // default compiler is used, which is what the validator itself falls back to.
#pragma warning disable ExperimentalApi
            FhirPathCompiler = FhirPathValidator.DefaultCompiler,
#pragma warning restore ExperimentalApi
        };
        _validator = new Validator(_package.Resolver, terminology, null, settings, shared?.SchemaResolverFor(_package.Resolver));
        _packageProfiles = new Lazy<IReadOnlyList<string>>(ListPackageProfiles);
    }

    /// <summary>The trial package folder in use (null when none was found).</summary>
    public string? ProfilesPath => _package.ProfilesPath;

    /// <summary>The folder of cached definitions for the loaded sources; null when caching is off ("none").</summary>
    public string? DefinitionCacheFolder => _package.DiskCache?.Folder;

    /// <summary>What the definition cache did so far; all zero when caching is off.</summary>
    public DefinitionCacheStatistics DefinitionCacheStatistics => _package.DiskCache?.Statistics ?? default;

    /// <summary>Canonicals of the resource profiles in the loaded packages (for the CapabilityStatement).</summary>
    public IReadOnlyList<string> PackageProfiles => _packageProfiles.Value;

    /// <summary>Canonicals of every StructureDefinition in the loaded packages: profiles and extensions.</summary>
    public IReadOnlyList<string> PackageStructureDefinitions => _package.ListStructureDefinitions();

    public IReadOnlyDictionary<string, string[]> RequiredProfiles => _options.RequiredProfiles;

    /// <summary>Whether <paramref name="url"/> (optionally with <c>|version</c>) names a StructureDefinition we hold.</summary>
    public bool IsKnownProfile(string url) =>
        _known.GetOrAdd(StripVersion(url), u => _package.FindDefinition(u) is StructureDefinition);

    /// <summary>
    /// Generates every package snapshot and compiles every package profile once, on the calling thread. Call it at
    /// startup, before validating on several threads. Fails when a required profile of the configuration is unknown.
    /// Returns the time it took.
    /// </summary>
    public TimeSpan Warm()
    {
        var clock = Stopwatch.StartNew();
        foreach (var (type, urls) in _options.RequiredProfiles)
        {
            foreach (var url in urls.Where(u => !IsKnownProfile(u)))
            {
                throw new InvalidOperationException(
                    $"Validation:RequiredProfiles:{type} names profile '{url}', which is in none of the loaded packages.");
            }
        }

        // One lock per profile rather than around the whole warm-up: a request that needs a profile nobody compiled yet
        // waits for at most one compilation, not for all of them.
        foreach (var url in _package.ListStructureDefinitions())
        {
            lock (_firstUse)
            {
                // Resolving through the SnapshotSource generates (and caches) the snapshot.
                if (_package.FindWithSnapshot(url) is StructureDefinition { Kind: StructureDefinition.StructureDefinitionKind.Resource, Type: { } typeName } sd &&
                    ModelInfo.GetTypeForFhirType(typeName) is { } type && Activator.CreateInstance(type) is Resource empty)
                {
                    // Compiles the profile's schema (and its base type's); the errors for an empty instance are expected.
                    RunOnPool(() => _validator.Validate(empty, url));
                    _compiled.TryAdd(url, 0);
                    _compiled.TryAdd(CoreBase + typeName, 0);
                }
            }
        }

        WarmWithExamples();
        return clock.Elapsed;
    }

    /// <summary>Async form of <see cref="Warm"/> for hosted-service startup; runs on a pool thread.</summary>
    public Task<TimeSpan> WarmAsync(CancellationToken cancellationToken = default) =>
        System.Threading.Tasks.Task.Run(Warm, cancellationToken);

    /// <summary>
    /// Validates <paramref name="resource"/> against its core definition, the profiles it claims in meta.profile and
    /// the given <paramref name="profiles"/>. An unknown profile in <paramref name="profiles"/> is an error issue.
    /// Issues carry severity, code, a human message (details.text and diagnostics) and the FHIRPath expression.
    /// </summary>
    public OperationOutcome Validate(Resource resource, IReadOnlyCollection<string>? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(resource);
        _gate.Wait();
        try
        {
            return ValidateAdmitted(resource, profiles);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// <see cref="Validate"/> for callers that must not block while waiting for their turn (the server's requests).
    /// </summary>
    public async ValueTask<OperationOutcome> ValidateAsync(Resource resource, IReadOnlyCollection<string>? profiles = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return ValidateAdmitted(resource, profiles);
        }
        finally
        {
            _gate.Release();
        }
    }

    private OperationOutcome ValidateAdmitted(Resource resource, IReadOnlyCollection<string>? profiles)
    {
        var outcome = new OperationOutcome();
        var targets = new List<string>();
        foreach (var profile in profiles ?? [])
        {
            if (IsKnownProfile(profile))
            {
                targets.Add(profile);
            }
            else
            {
                outcome.Issue.Add(ValidationIssues.UnknownProfile(profile, resource.TypeName));
            }
        }

        if (targets.Count == 0)
        {
            // Validating against the core type still checks every profile claimed in meta.profile.
            targets.Add(CoreBase + resource.TypeName);
        }

        foreach (var target in targets.Distinct(StringComparer.Ordinal))
        {
            OperationOutcome found;
            try
            {
                found = ValidateOnce(resource, target);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Firely throws on a few instances it cannot model (seen in HL7's suite: NotSupportedException from a
                // primitive it cannot build); the caller gets an error issue, not a 500.
                found = Outcomes.Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Exception,
                    $"The validator could not check this {resource.TypeName} against '{target}': {ex.Message}", resource.TypeName);
            }

            IssueExpressions.Tidy(found, resource);
            ValidationIssues.Merge(outcome, found);
        }

        return outcome;
    }

    /// <summary>
    /// The write-path check: null when the resource claims no known profile and its type has no required profile
    /// (nothing to check beyond parsing); otherwise the outcome of validating against the claimed and required
    /// profiles. The caller rejects the write (422) when the outcome has an error or fatal issue; warnings never block.
    /// </summary>
    public async ValueTask<OperationOutcome?> ValidateForWriteAsync(Resource resource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var required = _options.RequiredProfiles.GetValueOrDefault(resource.TypeName) ?? [];
        var claimsKnown = resource.Meta?.Profile?.Any(p => p is not null && IsKnownProfile(p)) ?? false;
        if (required.Length == 0 && !claimsKnown)
        {
            return null;
        }

        return await ValidateAsync(resource, required, cancellationToken);
    }

    private OperationOutcome ValidateOnce(Resource resource, string profile)
    {
        var needed = ValidationIssues.ProfilesUsedBy(resource).Append(profile).ToList();
        if (needed.All(_compiled.ContainsKey))
        {
            return RunOnPool(() => _validator.Validate(resource, profile));
        }

        // A profile nobody has used yet: compile it on one thread at a time (see the class remarks).
        lock (_firstUse)
        {
            var outcome = RunOnPool(() => _validator.Validate(resource, profile));
            foreach (var url in needed)
            {
                _compiled.TryAdd(url, 0);
            }

            return outcome;
        }
    }

    /// <summary>
    /// Runs a validation on a thread-pool thread. Firely's validator waits for every terminology check through
    /// <c>Task.Run(...).GetResult()</c>; called from a pool thread, that work item lands in the thread's own queue and
    /// the wait runs it inline, while from any other thread (a console's main thread) each coded element costs a hop
    /// to a pool thread and a spinning wait (measured: a third of the throughput lost). One hop per validation
    /// instead of one per binding.
    /// </summary>
    private static OperationOutcome RunOnPool(Func<OperationOutcome> validate) =>
        Thread.CurrentThread.IsThreadPoolThread
            ? validate()
            : System.Threading.Tasks.Task.Run(validate).GetAwaiter().GetResult();

    // The package's own valid examples exercise the extensions and bindings of every profile, so their schemas
    // are compiled here too rather than on the first request that uses them.
    private void WarmWithExamples()
    {
        if (_package.ProfilesPath is null)
        {
            return;
        }

        var examples = Path.Combine(_package.ProfilesPath, "examples", "valid");
        if (!Directory.Exists(examples))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(examples, "*.json"))
        {
            Resource resource;
            try
            {
                resource = Core.Fhir.ResourceSerializer.Parse(File.ReadAllBytes(file), Core.Fhir.FhirFormat.Json);
            }
            catch (Core.Fhir.FhirException)
            {
                // A broken example is the package check's business, not the server's startup.
                continue;
            }

            lock (_firstUse)
            {
                RunOnPool(() => _validator.Validate(resource, CoreBase + resource.TypeName));
                foreach (var url in ValidationIssues.ProfilesUsedBy(resource))
                {
                    _compiled.TryAdd(url, 0);
                }
            }
        }
    }

    private List<string> ListPackageProfiles() =>
        _package.ListStructureDefinitions()
            .Where(url => _package.FindDefinition(url) is StructureDefinition
            {
                Kind: StructureDefinition.StructureDefinitionKind.Resource,
                Derivation: StructureDefinition.TypeDerivationRule.Constraint,
            })
            .ToList();

    public void Dispose() => _gate.Dispose();

    private static IssueAssertion? AdjustSeverity(IssueAssertion issue, UnknownCodeSystemPolicy policy)
    {
        // Firely reports a failed terminology call under more than one issue number, but always with this wording.
        if (policy == UnknownCodeSystemPolicy.Ignore &&
            (issue.IssueNumber == Issue.TERMINOLOGY_SERVICE_FAILED.Code ||
             issue.Message.StartsWith("Terminology service failed", StringComparison.Ordinal)))
        {
            return null;
        }

        // A meta.profile claim we do not know is reported, as HL7's reference validator does, but it is not an
        // error: the claim is the sender's, and nothing here can check it. Profiles asked for explicitly are
        // checked before the validator runs and are errors when unknown.
        if (issue.IssueNumber == Issue.UNAVAILABLE_REFERENCED_PROFILE.Code &&
            issue.Message.StartsWith("Unable to resolve reference to profile", StringComparison.Ordinal) &&
            issue.Severity is OperationOutcome.IssueSeverity.Error)
        {
            return issue.WithSeverity(OperationOutcome.IssueSeverity.Warning);
        }

        return issue;
    }

    private static string StripVersion(string url)
    {
        var bar = url.IndexOf('|', StringComparison.Ordinal);
        return bar < 0 ? url : url[..bar];
    }

    /// <summary>
    /// The trial package folder: the configured path (relative to the content root), or else the first
    /// <c>profiles/</c> holding a package.json from the content root upwards (so tools run from bin/ find it).
    /// </summary>
    internal static string? ResolveProfilesPath(string? configured, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var path = Path.GetFullPath(configured, contentRoot);
            return Directory.Exists(path)
                ? path
                : throw new DirectoryNotFoundException($"Validation:ProfilesPath '{path}' does not exist.");
        }

        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "profiles");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string ResolveCacheRoot(ValidationOptions options, string contentRoot) =>
        string.IsNullOrWhiteSpace(options.SnapshotCachePath) || options.SnapshotCachePath == NoCache
            ? Path.Combine(Path.GetTempPath(), "fhirtrialgateway-validation")
            : Path.GetFullPath(options.SnapshotCachePath, contentRoot);
}
