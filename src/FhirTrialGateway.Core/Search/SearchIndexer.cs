using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<string, SearchParamDefinition[]> _byType = new(StringComparer.Ordinal);

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
            foreach (var value in resource.Select(definition.Expression!).OfType<Base>())
            {
                AddTokens(definition.Name!, value, entries);
            }
        }

        return entries.Count <= 1 ? entries : entries.Distinct().ToList();
    }

    private SearchParamDefinition[] DefinitionsFor(string resourceType) =>
        _byType.GetOrAdd(resourceType, static type => ModelInfo.SearchParameters
            .Where(d => d.Resource == type && d.Type == SearchParamType.Token
                        && d.Name is not null && IndexedTokenParameters.Contains(d.Name)
                        && !string.IsNullOrEmpty(d.Expression))
            .ToArray());

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
