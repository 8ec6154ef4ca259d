using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// Composite rows derived from the component definitions: for every base node (the Observation, or each
/// Observation.component), every token of the first component paired with every value of the second, so that
/// code-value-quantity=loinc|x$gt5 matches only when the code and the value belong to the same node.
/// </summary>
internal static class CompositeRows
{
    public static void Add(string parameter, CompositeInfo composite, List<Base> baseNodes, List<CompositeIndexEntry> rows)
    {
        var firsts = new List<Base>();
        var seconds = new List<Base>();
        var tokens = new SearchIndexRows();
        foreach (var node in baseNodes)
        {
            firsts.Clear();
            seconds.Clear();
            tokens.Tokens.Clear();
            composite.First.Select(node, firsts);
            composite.Second.Select(node, seconds);
            foreach (var first in firsts)
            {
                SearchIndexer.AddTokens(parameter, first, tokens);
            }

            if (tokens.Tokens.Count == 0 || seconds.Count == 0)
            {
                continue;
            }

            foreach (var second in seconds)
            {
                foreach (var part in SecondParts(composite.SecondType, second))
                {
                    foreach (var token in tokens.Tokens)
                    {
                        rows.Add(part with { Parameter = parameter, System1 = token.System, Code1 = token.Code });
                    }
                }
            }
        }
    }

    private static IEnumerable<CompositeIndexEntry> SecondParts(SearchParamType type, Base value)
    {
        switch (type)
        {
            case SearchParamType.Token:
                var tokens = new SearchIndexRows();
                SearchIndexer.AddTokens("", value, tokens);
                return tokens.Tokens.Select(t => Entry() with { System2 = t.System, Code2 = t.Code });
            case SearchParamType.Quantity when value is Quantity { Value: { } amount } quantity:
                return [Entry() with { System2 = quantity.System, Code2 = quantity.Code ?? quantity.Unit, Low2 = (double)amount, High2 = (double)amount }];
            case SearchParamType.Number when SearchIndexer.Number(value) is { } number:
                return [Entry() with { Low2 = number, High2 = number }];
            case SearchParamType.Date when SearchIndexer.DateRange(value) is var (low, high):
                return [Entry() with { Low2 = low, High2 = high }];
            case SearchParamType.String when value is PrimitiveType { JsonValue: string text }:
                return [Entry() with { Text2 = SearchValues.Normalize(text) }];
            default:
                return [];
        }
    }

    private static CompositeIndexEntry Entry() => new("", null, "", null, null, null, null, null);
}
