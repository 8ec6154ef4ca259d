namespace FhirTrialGateway.Validation;

/// <summary>What to do with a code whose system the local terminology service cannot check (LOINC, SNOMED CT, ...).</summary>
public enum UnknownCodeSystemPolicy
{
    /// <summary>Report it as a warning: the code is neither accepted nor rejected (the default).</summary>
    Warning,

    /// <summary>Report it as an error: only codes this server can check are accepted.</summary>
    Error,

    /// <summary>Drop the issue: the operator trusts senders for external terminologies.</summary>
    Ignore,
}

/// <summary>Configuration section "Validation".</summary>
public sealed class ValidationOptions
{
    public const string SectionName = "Validation";

    /// <summary>
    /// The trial's FHIR package folder (conformance resources at the top level, examples below it). Relative paths
    /// are taken from the content root. When empty, <c>profiles/</c> is looked up from the content root upwards.
    /// </summary>
    public string? ProfilesPath { get; set; }

    /// <summary>A folder where operators drop FHIR packages (<c>.tgz</c>, or unpacked package folders). Optional.</summary>
    public string? PackagesPath { get; set; }

    /// <summary>Extra packages given explicitly (a <c>.tgz</c> or a folder each), e.g. by <c>fhirgw validate --ig</c>.</summary>
    public IList<string> ExtraPackages { get; } = [];

    /// <summary>
    /// Resource type -> profile canonical(s) every written resource of that type must conform to,
    /// e.g. <c>"AdverseEvent": ["https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/trial-adverse-event"]</c>.
    /// </summary>
    public Dictionary<string, string[]> RequiredProfiles { get; set; } = new(StringComparer.Ordinal);

    public UnknownCodeSystemPolicy UnknownCodeSystems { get; set; } = UnknownCodeSystemPolicy.Warning;

    /// <summary>
    /// Cache folder for unpacked <c>.tgz</c> packages (keyed by a hash of each package) and for resolved definitions
    /// with their generated snapshots (under <c>definitions/</c>, keyed by a hash of the SDK and of every source), which
    /// make later starts fast. Empty: a folder under the system temp folder (the server uses its data folder instead).
    /// "none": definitions are not cached (packages are still unpacked under the temp folder).
    /// </summary>
    public string? SnapshotCachePath { get; set; }
}
