using System.Collections.Concurrent;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// Extracts index rows from a resource using the R4 SearchParameter definitions the SDK carries (their FHIRPath
/// expressions), so no parameter is listed by hand. Only the token parameters in <see cref="IndexedTokenParameters"/>
/// are extracted so far; the search issue widens this set.
/// </summary>
public sealed class SearchIndexer
{
    /// <summary>Token parameters indexed today, common to every resource type that defines them.</summary>
    public static readonly IReadOnlySet<string> IndexedTokenParameters = new HashSet<string>(StringComparer.Ordinal) { "identifier" };

    private readonly ConcurrentDictionary<string, IndexedParameter[]> _byType = new(StringComparer.Ordinal);

    /// <summary>A parameter as evaluated for one resource type: its name and the expression narrowed to that type.</summary>
    private sealed record IndexedParameter(string Name, string Expression);

    public static SearchIndexer Instance { get; } = new();

    /// <summary>Whether <paramref name="resourceType"/> defines the indexed token parameter <paramref name="name"/>.</summary>
    public bool SupportsToken(string resourceType, string name) =>
        DefinitionsFor(resourceType).Any(d => d.Name == name);

    public IReadOnlyList<TokenIndexEntry> ExtractTokens(Resource resource)
    {
        var definitions = DefinitionsFor(resource.TypeName);
        if (definitions.Length == 0)
        {
            return [];
        }

        var entries = new List<TokenIndexEntry>();
        foreach (var definition in definitions)
        {
            foreach (var value in resource.Select(definition.Expression).OfType<Base>())
            {
                AddTokens(definition.Name, value, entries);
            }
        }

        return entries.Count <= 1 ? entries : entries.Distinct().ToList();
    }

    private IndexedParameter[] DefinitionsFor(string resourceType) =>
        _byType.GetOrAdd(resourceType, static type => ModelInfo.SearchParameters
            .Where(d => d.Resource == type && d.Type == SearchParamType.Token
                        && d.Name is not null && IndexedTokenParameters.Contains(d.Name)
                        && !string.IsNullOrEmpty(d.Expression))
            .Select(d => new IndexedParameter(d.Name!, NarrowToType(d.Expression!, type)))
            .ToArray());

    /// <summary>
    /// Parameters shared by many types carry one union for all of them ("Account.identifier | ActivityDefinition.identifier
    /// | ..."). Evaluating the whole union for every write costs ten times the parse; only the branches that can
    /// match this type are kept (those that start with the type's name or with no resource type at all).
    /// </summary>
    internal static string NarrowToType(string expression, string resourceType)
    {
        var branches = SplitTopLevelUnion(expression);
        var kept = branches.Where(b =>
        {
            var head = b.TrimStart('(').Split('.', 2)[0].Trim();
            return head == resourceType || !FhirModel.IsResourceType(head);
        }).ToList();
        return kept.Count == 0 ? expression : string.Join(" | ", kept);
    }

    private static List<string> SplitTopLevelUnion(string expression)
    {
        var parts = new List<string>();
        var depth = 0;
        var quoted = false;
        var start = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '\'' )
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '(')
            {
                depth++;
            }
            else if (!quoted && c == ')')
            {
                depth--;
            }
            else if (!quoted && depth == 0 && c == '|')
            {
                parts.Add(expression[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(expression[start..].Trim());
        return parts;
    }

    private static void AddTokens(string parameter, Base value, List<TokenIndexEntry> entries)
    {
        switch (value)
        {
            case Identifier { Value: { Length: > 0 } idValue } identifier:
                entries.Add(new TokenIndexEntry(parameter, identifier.System, idValue));
                break;
            case Coding { Code: { Length: > 0 } code } coding:
                entries.Add(new TokenIndexEntry(parameter, coding.System, code));
                break;
            case CodeableConcept concept:
                foreach (var coding in concept.Coding)
                {
                    AddTokens(parameter, coding, entries);
                }

                break;
            case FhirBoolean { Value: { } flag }:
                entries.Add(new TokenIndexEntry(parameter, null, flag ? "true" : "false"));
                break;
            case PrimitiveType { JsonValue: { } primitive }:
                var text = primitive.ToString();
                if (!string.IsNullOrEmpty(text))
                {
                    entries.Add(new TokenIndexEntry(parameter, null, text));
                }

                break;
        }
    }
}
