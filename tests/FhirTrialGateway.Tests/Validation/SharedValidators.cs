using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>
/// Validators are expensive to warm (core schemas compile on first use), so the validation tests share them for
/// the whole run: one on the repository's profiles/ with default options, and variants built over the same
/// compiled core definitions.
/// </summary>
internal static class SharedValidators
{
    public const string Base = "https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/";
    public const string AdverseEventProfile = Base + "trial-adverse-event";

    private static readonly SharedCoreDefinitions Core = new();

    private static readonly Lazy<ProfileValidator> DefaultValidator = new(() =>
    {
        var validator = new ProfileValidator(new ValidationOptions { ProfilesPath = ProfilesPath }, null, Core);
        validator.Warm();
        return validator;
    });

    public static ProfileValidator Default => DefaultValidator.Value;

    /// <summary>The repository's profiles/ folder, found from the test binaries upwards.</summary>
    public static string ProfilesPath { get; } = ProfileValidator.ResolveProfilesPath(null, AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("profiles/ (with package.json) not found above " + AppContext.BaseDirectory);

    public static string Example(string relative) => Path.Combine(ProfilesPath, "examples", relative);

    public static Resource Load(string relative) =>
        ResourceSerializer.Parse(File.ReadAllBytes(Example(relative)), FhirFormat.Json);

    /// <summary>A validator with other options; shares the compiled core schemas with <see cref="Default"/>.</summary>
    public static ProfileValidator With(Action<ValidationOptions> configure)
    {
        var options = new ValidationOptions { ProfilesPath = ProfilesPath };
        configure(options);
        return new ProfileValidator(options, null, Core);
    }
}
