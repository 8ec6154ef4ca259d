using System.Text.RegularExpressions;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Validation;

/// <summary>Writes the results of <c>fhirgw validate</c> as readable text or as FHIR JSON.</summary>
public static partial class ValidationReport
{
    /// <summary>
    /// One line per issue (file, resource, severity, location, message), a summary line per file and a total:
    /// <code>
    /// obs.json  Observation/ua-1  error    Observation.value.code  Value 'mm2' is not exactly equal to fixed value 'cm2'
    /// obs.json  Observation/ua-1  FAILED   1 error, 0 warnings
    /// </code>
    /// </summary>
    public static void WriteText(TextWriter output, IReadOnlyList<FileResult> results)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        int failed = 0, errors = 0, warnings = 0;
        foreach (var result in results)
        {
            var fileErrors = result.Outcome.Issue.Count(ValidationIssues.IsError);
            var fileWarnings = result.Outcome.Issue.Count(i => i.Severity == OperationOutcome.IssueSeverity.Warning);
            foreach (var issue in result.Outcome.Issue)
            {
                var where = ValidationIssues.Where(issue);
                output.WriteLine(
                    $"{result.File}  {Label(result.Resource, where)}  {Severity(issue)}  {(where.Length == 0 ? "-" : where)}  {ValidationIssues.Message(issue)}");
            }

            output.WriteLine($"{result.File}  {Label(result.Resource, "")}  {(fileErrors > 0 ? "FAILED" : "OK")}  " +
                             $"{Plural(fileErrors, "error")}, {Plural(fileWarnings, "warning")}");
            failed += fileErrors > 0 ? 1 : 0;
            errors += fileErrors;
            warnings += fileWarnings;
        }

        output.WriteLine($"{Plural(results.Count, "file")} checked: {failed} with errors; {Plural(errors, "error")}, {Plural(warnings, "warning")}.");
    }

    /// <summary>
    /// One input: its OperationOutcome. Several: a collection Bundle with one OperationOutcome per input, whose
    /// entry fullUrl is the input's file URI (stdin: <c>urn:stdin</c>).
    /// </summary>
    public static void WriteJson(TextWriter output, IReadOnlyList<FileResult> results)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        Base document;
        if (results.Count == 1)
        {
            document = results[0].Outcome;
        }
        else
        {
            var bundle = new Bundle { Type = Bundle.BundleType.Collection };
            foreach (var result in results)
            {
                bundle.Entry.Add(new Bundle.EntryComponent
                {
                    FullUrl = result.File.StartsWith('<') ? "urn:stdin" : new Uri(Path.GetFullPath(result.File)).AbsoluteUri,
                    Resource = result.Outcome,
                });
            }

            document = bundle;
        }

        output.WriteLine(ResourceSerializer.ToText(ResourceSerializer.SerializeJson(document, pretty: true)));
    }

    private static string Severity(OperationOutcome.IssueComponent issue) =>
        (issue.Severity?.ToString().ToLowerInvariant() ?? "error").PadRight(11);

    /// <summary>The resource an issue is about: the entry's resource for an issue inside a Bundle entry.</summary>
    private static string Label(Resource? resource, string where)
    {
        if (resource is null)
        {
            return "(unreadable)";
        }

        if (resource is Bundle bundle && EntryPattern().Match(where) is { Success: true } match &&
            int.TryParse(match.Groups[1].Value, out var index) && index < bundle.Entry.Count &&
            bundle.Entry[index].Resource is { } entry)
        {
            return Name(entry);
        }

        return Name(resource);
    }

    private static string Name(Resource resource) =>
        resource.Id is null ? resource.TypeName : $"{resource.TypeName}/{resource.Id}";

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    [GeneratedRegex(@"^Bundle\.entry\[(\d+)\]\.resource")]
    private static partial Regex EntryPattern();
}
