using FhirTrialGateway.Validation;

namespace FhirTrialGateway.Mapping;

/// <summary>
/// Validates every produced resource against the profile its mapping names (or core R4). A resource that does
/// not conform is an error of the mapping or the data, reported with the FHIRPath of each issue; the bundle is
/// then not sent.
/// </summary>
public sealed class ResourceChecker(ProfileValidator validator)
{
    public MappedBundle Check(MappedBundle bundle, string? file)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var issues = new List<ImportIssue>(bundle.Issues);
        var index = 0;
        foreach (var mapped in bundle.Resources)
        {
            var outcome = validator.Validate(mapped.Resource, mapped.Profile is null ? null : [mapped.Profile]);
            foreach (var issue in outcome.Issue.Where(ValidationIssues.IsError))
            {
                var where = ValidationIssues.Where(issue);
                issues.Add(new ImportIssue(true, $"{mapped.Resource.TypeName} does not conform{(mapped.Profile is null ? "" : " to " + mapped.Profile)}: {ValidationIssues.Message(issue)}",
                    file, null, $"Bundle.entry[{index}].resource ({mapped.RequestUrl}) at {where}", bundle.Key));
            }

            index++;
        }

        return bundle with { Issues = issues };
    }
}
