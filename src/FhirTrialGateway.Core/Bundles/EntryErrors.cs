using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>Puts the entry into a failure's OperationOutcome: "Entry 17: ..." and Bundle.entry[17].resource... as expression.</summary>
internal static class EntryErrors
{
    /// <param name="element">When given, the element of the entry the failure is about (e.g. "request.url").</param>
    public static FhirException ForEntry(FhirException error, EntryRequest entry, string? element = null)
    {
        var outcome = (OperationOutcome)error.Outcome.DeepCopy();
        foreach (var issue in outcome.Issue)
        {
            if (issue.Diagnostics is { } text && !text.StartsWith("Entry ", StringComparison.Ordinal))
            {
                issue.Diagnostics = $"Entry {entry.Index} ({entry.Method} {entry.Request.Url}): {text}";
            }

            var expressions = element is not null
                ? [$"{entry.Expression}.{element}"]
                : issue.Expression.Where(e => e is not null).Select(e => Locate(e!, entry)).ToList();
            issue.Expression = expressions.Count > 0 ? expressions : [entry.Expression];
        }

        return new FhirException(error.Status, outcome);
    }

    /// <summary>"Patient.id" inside entry 3 is "Bundle.entry[3].resource.id"; paths already in the bundle stay.</summary>
    private static string Locate(string expression, EntryRequest entry)
    {
        if (expression.StartsWith("Bundle.", StringComparison.Ordinal))
        {
            return expression;
        }

        var dot = expression.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? expression : expression[..dot];
        return head == entry.ResourceType
            ? $"{entry.Expression}.resource{(dot < 0 ? "" : expression[dot..])}"
            : $"{entry.Expression}.{expression}";
    }
}
