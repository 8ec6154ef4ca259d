using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Firely writes an index after every step of an issue's expression (<c>Bundle.entry[1].resource[0].value[0]</c>).
/// FHIRPath accepts that, but people read <c>Bundle.entry[1].resource.value</c>: this walks the expression through
/// the instance and keeps the index only where the element repeats.
/// </summary>
internal static partial class IssueExpressions
{
    public static void Tidy(OperationOutcome outcome, Resource resource)
    {
        foreach (var issue in outcome.Issue)
        {
            issue.Expression = [.. issue.Expression.Select(e => e is null ? e : Tidy(e, resource))];
        }
    }

    internal static string Tidy(string expression, Resource resource)
    {
        var steps = expression.Split('.');
        if (steps.Length == 0 || StepPattern().Match(steps[0]) is not { Success: true } first || first.Groups["name"].Value != resource.TypeName)
        {
            return expression;
        }

        var result = new StringBuilder(resource.TypeName);
        Base? current = resource;
        foreach (var step in steps.Skip(1))
        {
            var match = StepPattern().Match(step);
            if (!match.Success || current is null)
            {
                // Past what we can follow (an unknown element, a function call): keep the rest as Firely wrote it.
                result.Append('.').Append(step);
                current = null;
                continue;
            }

            var name = match.Groups["name"].Value;
            var index = match.Groups["index"].Success ? int.Parse(match.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            var value = current.EnumerateElements().FirstOrDefault(e => e.Key == name).Value;
            result.Append('.').Append(name);
            switch (value)
            {
                case IList list:
                    result.Append('[').Append(index).Append(']');
                    current = index < list.Count ? list[index] as Base : null;
                    break;
                case Base single when index == 0:
                    current = single;
                    break;
                default:
                    if (match.Groups["index"].Success)
                    {
                        result.Append('[').Append(index).Append(']');
                    }

                    current = null;
                    break;
            }
        }

        return result.ToString();
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9_]*)(\[(?<index>\d+)\])?$")]
    private static partial Regex StepPattern();
}
