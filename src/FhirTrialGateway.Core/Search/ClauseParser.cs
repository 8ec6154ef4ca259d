using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// Turns one <c>name=value</c> search criterion into a <see cref="SearchClause"/>. Answers null for a parameter or
/// modifier this server does not support (the caller ignores or rejects it by the handling preference) and throws
/// 400 for a malformed value.
/// </summary>
internal sealed class ClauseParser(SearchParameters registry, string? baseUrl)
{
    private const int MaxChainDepth = 4;

    public SearchClause? Parse(string resourceType, string name, string value, int depth = 0)
    {
        if (depth > MaxChainDepth)
        {
            return null;
        }

        if (name.StartsWith("_has:", StringComparison.Ordinal))
        {
            return ParseHas(resourceType, name, value, depth);
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? name : name[..dot];
        var colon = head.IndexOf(':', StringComparison.Ordinal);
        var parameterName = colon < 0 ? head : head[..colon];
        var modifier = colon < 0 ? null : head[(colon + 1)..];
        if (registry.Find(resourceType, parameterName) is not { } parameter)
        {
            return null;
        }

        if (dot >= 0)
        {
            return parameter.Type == SearchParamType.Reference ? ParseChain(parameter, modifier, name[(dot + 1)..], value, depth) : null;
        }

        if (modifier == "missing")
        {
            return parameter.Name is SearchParameters.Id or SearchParameters.LastUpdated
                ? null
                : new MissingClause(parameter.Name, parameter.Type, value switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw FhirException.BadRequest($"{name} takes true or false, not '{value}'.", name),
                });
        }

        var values = SplitValues(value);
        if (values.Count == 0)
        {
            throw FhirException.BadRequest($"The search parameter '{name}' needs a value.", name);
        }

        return parameter.Type switch
        {
            SearchParamType.Token => Token(parameter, modifier, values),
            SearchParamType.String => modifier switch
            {
                null => new StringClause(parameter.Name, values.Select(v => SearchValues.Normalize(TokenValue.Unescape(v))).ToList(), StringMatch.StartsWith),
                "contains" => new StringClause(parameter.Name, values.Select(v => SearchValues.Normalize(TokenValue.Unescape(v))).ToList(), StringMatch.Contains),
                "exact" => new StringClause(parameter.Name, values.Select(TokenValue.Unescape).ToList(), StringMatch.Exact),
                _ => null,
            },
            SearchParamType.Date when modifier is null => new DateClause(parameter.Name, values.Select(v => Date(name, v)).ToList()),
            SearchParamType.Number when modifier is null => new NumberClause(parameter.Name, values.Select(v => Number(name, v)).ToList()),
            SearchParamType.Quantity when modifier is null => new QuantityClause(parameter.Name, values.Select(v => Quantity(name, v)).ToList()),
            SearchParamType.Reference => Reference(parameter, modifier, values),
            SearchParamType.Uri => modifier switch
            {
                null => new UriClause(parameter.Name, values.Select(TokenValue.Unescape).ToList(), UriMatch.Exact),
                "below" => new UriClause(parameter.Name, values.Select(TokenValue.Unescape).ToList(), UriMatch.Below),
                "above" => new UriClause(parameter.Name, values.Select(TokenValue.Unescape).ToList(), UriMatch.Above),
                _ => null,
            },
            SearchParamType.Composite when modifier is null => new CompositeClause(parameter.Name,
                values.Select(v => Composite(name, parameter.Composite!, v)).ToList()),
            _ => null,
        };
    }

    /// <summary>Comma-separated values; <c>\,</c> is a literal comma and stays escaped until the value is split further.</summary>
    public static List<string> SplitValues(string value)
    {
        var values = new List<string>();
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == ',')
            {
                values.Add(value[start..i]);
                start = i + 1;
            }
        }

        values.Add(value[start..]);
        return values.Where(v => v.Length > 0).ToList();
    }

    private static SearchClause? Token(SearchParameterInfo parameter, string? modifier, List<string> values)
    {
        if (parameter.Name == SearchParameters.Id)
        {
            return modifier is null ? new IdClause(values.Select(TokenValue.Unescape).ToList()) : null;
        }

        var tokens = values.Select(TokenValue.Parse).Where(t => t.System is not null || t.Code is not null).ToList();
        if (tokens.Count == 0)
        {
            throw FhirException.BadRequest($"The search parameter '{parameter.Name}' needs a value.", parameter.Name);
        }

        return modifier switch
        {
            null => new TokenClause(parameter.Name, tokens),
            "not" => new TokenClause(parameter.Name, tokens, Not: true),
            "text" => new StringClause(parameter.Name + ":text", values.Select(v => SearchValues.Normalize(TokenValue.Unescape(v))).ToList(), StringMatch.StartsWith),
            _ => null, // :in, :not-in, :below, :above need a terminology service; :of-type is not indexed
        };
    }

    private SearchClause? Reference(SearchParameterInfo parameter, string? modifier, List<string> values)
    {
        if (modifier == "identifier")
        {
            return new TokenClause(parameter.Name + ":identifier", values.Select(TokenValue.Parse).ToList());
        }

        if (modifier is not null && !AllowsTarget(parameter, modifier))
        {
            throw FhirException.BadRequest($"{parameter.Name}:{modifier}: {parameter.ResourceType}.{parameter.Name} cannot refer to a {modifier}.", parameter.Name);
        }

        return new ReferenceClause([parameter.Name], values.Select(v => ReferenceValueOf(TokenValue.Unescape(v), modifier)).ToList());
    }

    private static bool AllowsTarget(SearchParameterInfo parameter, string type) =>
        FhirModel.IsResourceType(type) && (parameter.Targets.Count == 0 || parameter.Targets.Contains(type));

    private ReferenceValue ReferenceValueOf(string raw, string? typeModifier)
    {
        if (baseUrl is not null && raw.StartsWith(baseUrl.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            raw = raw[(baseUrl.TrimEnd('/').Length + 1)..]; // an absolute URL of this server is a local reference
        }

        if (typeModifier is not null)
        {
            return new ReferenceValue(typeModifier, raw);
        }

        var (type, id) = SearchIndexer.ReferenceTarget(raw);
        return new ReferenceValue(type, id);
    }

    private ChainClause? ParseChain(SearchParameterInfo parameter, string? typeModifier, string rest, string value, int depth)
    {
        var restParameter = rest.Split(':', '.')[0];
        var candidates = typeModifier is not null
            ? AllowsTarget(parameter, typeModifier) ? [typeModifier] : throw FhirException.BadRequest(
                $"{parameter.Name}:{typeModifier}: {parameter.ResourceType}.{parameter.Name} cannot refer to a {typeModifier}.", parameter.Name)
            : parameter.Targets.Where(t => registry.Find(t, restParameter) is not null).ToList();
        var targets = new List<SearchQuery>();
        foreach (var target in candidates)
        {
            if (Parse(target, rest, value, depth + 1) is { } inner)
            {
                targets.Add(new SearchQuery(target, [inner]));
            }
        }

        return targets.Count == 0 ? null : new ChainClause(parameter.Name, targets);
    }

    private HasClause? ParseHas(string resourceType, string name, string value, int depth)
    {
        var parts = name.Split(':', 4);
        if (parts.Length < 4 || !FhirModel.IsResourceType(parts[1]))
        {
            throw FhirException.BadRequest($"{name}: _has takes the form _has:Type:reference-parameter:parameter.", "_has");
        }

        if (registry.Find(parts[1], parts[2]) is not { Type: SearchParamType.Reference } reference
            || (reference.Targets.Count > 0 && !reference.Targets.Contains(resourceType)))
        {
            return null;
        }

        return Parse(parts[1], parts[3], value, depth + 1) is { } inner
            ? new HasClause(new SearchQuery(parts[1], [inner]), reference.Name)
            : null;
    }

    private static DateValue Date(string name, string raw)
    {
        if (!SearchValues.TryParsePrefix(raw, out var prefix, out var text) || !SearchValues.TryParseDateRange(text, out var low, out var high))
        {
            throw FhirException.BadRequest($"{name}: '{raw}' is not a date such as 2026-03, 2026-03-01 or ge2026-03-01T10:00:00Z.", name);
        }

        return new DateValue(prefix, low, high);
    }

    private static NumberValue Number(string name, string raw)
    {
        if (!SearchValues.TryParsePrefix(raw, out var prefix, out var text) || !SearchValues.TryParseDecimal(text, out var number))
        {
            throw FhirException.BadRequest($"{name}: '{raw}' is not a number such as 5.4 or gt100.", name);
        }

        var (low, high) = SearchValues.PrecisionRange(number);
        return new NumberValue(prefix, (double)number, low, high);
    }

    private static QuantityValue Quantity(string name, string raw)
    {
        var first = TokenValue.IndexOfUnescaped(raw, '|');
        if (first < 0)
        {
            return new QuantityValue(Number(name, raw), null, null);
        }

        var rest = raw[(first + 1)..];
        var second = TokenValue.IndexOfUnescaped(rest, '|');
        if (second < 0)
        {
            throw FhirException.BadRequest($"{name}: '{raw}' is not a quantity such as 5.4|http://unitsofmeasure.org|mg or 5.4||mg.", name);
        }

        var system = TokenValue.Unescape(rest[..second]);
        var code = TokenValue.Unescape(rest[(second + 1)..]);
        return new QuantityValue(Number(name, raw[..first]), system.Length == 0 ? null : system, code.Length == 0 ? null : code);
    }

    private static CompositeValue Composite(string name, CompositeInfo composite, string raw)
    {
        var dollar = TokenValue.IndexOfUnescaped(raw, '$');
        if (dollar < 0)
        {
            throw FhirException.BadRequest($"{name}: '{raw}' is not a composite value such as http://loinc.org|8480-6$gt100.", name);
        }

        var first = TokenValue.Parse(raw[..dollar]);
        var second = raw[(dollar + 1)..];
        return composite.SecondType switch
        {
            SearchParamType.Token => new CompositeValue(first, TokenValue.Parse(second), null, null),
            SearchParamType.Quantity => Quantity(name, second) is var q
                ? new CompositeValue(first, q.System is null && q.Code is null ? null : new TokenValue(q.System, q.Code), q.Number, null)
                : default,
            SearchParamType.Number => new CompositeValue(first, null, Number(name, second), null),
            SearchParamType.Date => Date(name, second) is var d
                ? new CompositeValue(first, null, new NumberValue(d.Prefix, d.Low, d.Low, d.High), null) { SecondIsRange = true }
                : default,
            _ => new CompositeValue(first, null, null, SearchValues.Normalize(TokenValue.Unescape(second))),
        };
    }
}
