using Hl7.Fhir.Model;

namespace FhirTrialGateway.Validation;

/// <summary>Helpers for the OperationOutcome issues the validator produces.</summary>
public static class ValidationIssues
{
    public static bool IsError(OperationOutcome.IssueComponent issue) =>
        issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal;

    public static bool HasErrors(OperationOutcome outcome) => outcome.Issue.Any(IsError);

    /// <summary>The human message of an issue: details.text, else diagnostics.</summary>
    public static string Message(OperationOutcome.IssueComponent issue) =>
        issue.Details?.Text ?? issue.Diagnostics ?? "";

    /// <summary>Where the issue is: its FHIRPath expression, else its (legacy) location, else empty.</summary>
    public static string Where(OperationOutcome.IssueComponent issue) =>
        issue.Expression.FirstOrDefault() ?? issue.Location.FirstOrDefault() ?? "";

    /// <summary>
    /// Rewrites the expressions of issues found in a resource validated on its own so they point into its container,
    /// e.g. <c>Observation.value</c> with prefix <c>Bundle.entry[3].resource</c> becomes
    /// <c>Bundle.entry[3].resource.value</c>. For transaction entries validated one by one on the write path.
    /// </summary>
    public static OperationOutcome Relocate(OperationOutcome outcome, string prefix)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        foreach (var issue in outcome.Issue)
        {
            issue.Expression = [.. issue.Expression.Select(e => Prefix(e, prefix))];
            issue.Location = [.. issue.Location.Select(e => Prefix(e, prefix))];
        }

        return outcome;
    }

    internal static OperationOutcome.IssueComponent UnknownProfile(string url, string resourceType) => new()
    {
        Severity = OperationOutcome.IssueSeverity.Error,
        Code = OperationOutcome.IssueType.NotFound,
        Details = new CodeableConcept { Text = $"Profile '{url}' is unknown: it is in none of the loaded packages, so the {resourceType} could not be validated against it." },
        Diagnostics = $"Unknown profile '{url}'.",
        Expression = [resourceType],
    };

    /// <summary>Adds the issues of <paramref name="more"/> that <paramref name="into"/> does not have yet.</summary>
    internal static void Merge(OperationOutcome into, OperationOutcome more)
    {
        var seen = into.Issue.Select(Key).ToHashSet(StringComparer.Ordinal);
        foreach (var issue in more.Issue)
        {
            if (seen.Add(Key(issue)))
            {
                into.Issue.Add(issue);
            }
        }
    }

    /// <summary>The profiles a validation of <paramref name="resource"/> will touch: meta.profile claims of it and of
    /// everything nested in it (contained resources, Bundle entries, Parameters), and their core types.</summary>
    internal static IEnumerable<string> ProfilesUsedBy(Resource resource)
    {
        foreach (var r in SelfAndNested(resource))
        {
            yield return "http://hl7.org/fhir/StructureDefinition/" + r.TypeName;
            foreach (var claim in r.Meta?.Profile ?? [])
            {
                yield return claim ?? "";
            }
        }
    }

    private static IEnumerable<Resource> SelfAndNested(Resource resource)
    {
        yield return resource;
        IEnumerable<Resource?> children = resource switch
        {
            Bundle bundle => bundle.Entry.Select(e => e.Resource),
            Parameters parameters => parameters.Parameter.Select(p => p.Resource),
            DomainResource domain => domain.Contained,
            _ => [],
        };
        foreach (var child in children.OfType<Resource>())
        {
            foreach (var nested in SelfAndNested(child))
            {
                yield return nested;
            }
        }
    }

    private static string Key(OperationOutcome.IssueComponent issue) =>
        $"{issue.Severity}|{issue.Code}|{Message(issue)}|{Where(issue)}";

    private static string Prefix(string? expression, string prefix)
    {
        // An expression starts with the resource type; that first step is replaced by the container's path.
        var dot = expression?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot < 0 ? prefix : prefix + expression![dot..];
    }
}
