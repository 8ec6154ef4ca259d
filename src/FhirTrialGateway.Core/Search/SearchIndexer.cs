using System.Globalization;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// Extracts the index rows of a resource from every R4 search parameter of its type (<see cref="SearchParameters"/>).
/// Runs before the write, on the request's thread, so the single writer only inserts rows.
/// </summary>
public sealed class SearchIndexer
{
    private readonly SearchParameters _parameters = SearchParameters.Instance;

    public static SearchIndexer Instance { get; } = new();

    /// <summary>Whether <paramref name="resourceType"/> has the token parameter <paramref name="name"/>.</summary>
    public bool SupportsToken(string resourceType, string name) =>
        _parameters.Find(resourceType, name)?.Type == SearchParamType.Token;

    public SearchIndexRows Extract(Resource resource)
    {
        var rows = new SearchIndexRows();
        var values = new List<Base>();
        foreach (var parameter in _parameters.For(resource.TypeName).Values)
        {
            if (parameter.Name is SearchParameters.Id or SearchParameters.LastUpdated)
            {
                continue; // columns of the resources table
            }

            if (parameter.StoredAs is not null && parameter.Type != SearchParamType.Reference)
            {
                continue; // searched through other parameters' rows
            }

            values.Clear();
            parameter.Path.Select(resource, values);
            if (values.Count == 0)
            {
                continue;
            }

            if (parameter.Composite is { } composite)
            {
                CompositeRows.Add(parameter.Name, composite, values, rows.Composites);
                continue;
            }

            foreach (var value in values)
            {
                if (parameter.StoredAs is null)
                {
                    Add(parameter, value, rows);
                }
                else if (value is ResourceReference { Identifier: { } identifier })
                {
                    // Searched through its twin's reference rows; only its :identifier rows are its own (a token row
                    // has no target type to narrow the twin's by).
                    AddTokens(parameter.Name + ":identifier", identifier, rows);
                }
            }
        }

        Deduplicate(rows.Tokens);
        Deduplicate(rows.Strings);
        Deduplicate(rows.References);
        return rows;
    }

    private static void Add(SearchParameterInfo parameter, Base value, SearchIndexRows rows)
    {
        var name = parameter.Name;
        switch (parameter.Type)
        {
            case SearchParamType.Token:
                AddTokens(name, value, rows);
                break;
            case SearchParamType.String:
                AddStrings(name, value, rows.Strings);
                break;
            case SearchParamType.Date:
                if (DateRange(value) is var (low, high))
                {
                    rows.Dates.Add(new DateIndexEntry(name, low, high));
                }

                break;
            case SearchParamType.Number:
                if (Number(value) is { } number)
                {
                    rows.Numbers.Add(new NumberIndexEntry(name, number));
                }

                break;
            case SearchParamType.Quantity:
                if (value is Quantity { Value: { } amount } quantity)
                {
                    rows.Quantities.Add(new QuantityIndexEntry(name, quantity.System, quantity.Code ?? quantity.Unit, quantity.Unit, (double)amount));
                }
                else if (value is Money { Value: { } money } cash)
                {
                    rows.Quantities.Add(new QuantityIndexEntry(name, "urn:iso:std:iso:4217", cash.Currency?.ToString(), null, (double)money));
                }

                break;
            case SearchParamType.Reference:
                AddReference(name, value, rows);
                break;
            case SearchParamType.Uri:
                if (value is PrimitiveType { JsonValue: string uri } && uri.Length > 0)
                {
                    rows.Uris.Add(new UriIndexEntry(name, uri));
                }

                break;
        }
    }

    internal static void AddTokens(string parameter, Base value, SearchIndexRows rows)
    {
        switch (value)
        {
            case Identifier { Value: { Length: > 0 } idValue } identifier:
                rows.Tokens.Add(new TokenIndexEntry(parameter, identifier.System, idValue));
                if (identifier.Type?.Text is { Length: > 0 } typeText)
                {
                    rows.Strings.Add(new StringIndexEntry(parameter + ":text", SearchValues.Normalize(typeText), typeText));
                }

                break;
            case Coding coding:
                if (coding.Code is { Length: > 0 } code)
                {
                    rows.Tokens.Add(new TokenIndexEntry(parameter, coding.System, code));
                }

                if (coding.Display is { Length: > 0 } display)
                {
                    rows.Strings.Add(new StringIndexEntry(parameter + ":text", SearchValues.Normalize(display), display));
                }

                break;
            case CodeableConcept concept:
                foreach (var coding in concept.Coding)
                {
                    AddTokens(parameter, coding, rows);
                }

                if (concept.Text is { Length: > 0 } text)
                {
                    rows.Strings.Add(new StringIndexEntry(parameter + ":text", SearchValues.Normalize(text), text));
                }

                break;
            case ContactPoint { Value: { Length: > 0 } contact }:
                rows.Tokens.Add(new TokenIndexEntry(parameter, null, contact));
                break;
            case FhirBoolean { Value: { } flag }:
                rows.Tokens.Add(new TokenIndexEntry(parameter, null, flag ? "true" : "false"));
                break;
            case PrimitiveType primitive when TokenText(primitive) is { Length: > 0 } literal:
                rows.Tokens.Add(new TokenIndexEntry(parameter, null, literal));
                break;
        }
    }

    private static string? TokenText(PrimitiveType primitive) => primitive.JsonValue switch
    {
        null => null,
        bool flag => flag ? "true" : "false",
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };

    private static void AddStrings(string parameter, Base value, List<StringIndexEntry> rows)
    {
        switch (value)
        {
            case PrimitiveType { JsonValue: string text } when text.Length > 0:
                rows.Add(new StringIndexEntry(parameter, SearchValues.Normalize(text), text));
                break;
            case HumanName name:
                AddString(parameter, name.Family, rows);
                AddString(parameter, name.Text, rows);
                foreach (var part in name.Given.Concat(name.Prefix).Concat(name.Suffix))
                {
                    AddString(parameter, part, rows);
                }

                break;
            case Address address:
                foreach (var part in address.Line.Append(address.City).Append(address.District).Append(address.State)
                             .Append(address.PostalCode).Append(address.Country).Append(address.Text))
                {
                    AddString(parameter, part, rows);
                }

                break;
        }
    }

    private static void AddString(string parameter, string? text, List<StringIndexEntry> rows)
    {
        if (!string.IsNullOrEmpty(text))
        {
            rows.Add(new StringIndexEntry(parameter, SearchValues.Normalize(text), text));
        }
    }

    internal static (long Low, long High)? DateRange(Base value)
    {
        switch (value)
        {
            case Date or FhirDateTime or Instant:
                var text = ((PrimitiveType)value).JsonValue as string;
                return text is not null && SearchValues.TryParseDateRange(text, out var low, out var high) ? (low, high) : null;
            case Period period:
                var start = period.StartElement is { } s ? DateRange(s) : null;
                var end = period.EndElement is { } e ? DateRange(e) : null;
                return start is null && end is null ? null : (start?.Low ?? SearchValues.MinInstant, end?.High ?? SearchValues.MaxInstant);
            case Timing timing:
                var events = timing.EventElement.Select(DateRange).Where(r => r is not null).Select(r => r!.Value).ToList();
                if (timing.Repeat?.Bounds is Period bounds && DateRange(bounds) is { } b)
                {
                    events.Add(b);
                }

                return events.Count == 0 ? null : (events.Min(r => r.Low), events.Max(r => r.High));
            default:
                return null;
        }
    }

    internal static double? Number(Base value) => value switch
    {
        FhirDecimal { Value: { } d } => (double)d,
        Integer { Value: { } i } => i,
        PositiveInt { Value: { } p } => p,
        UnsignedInt { Value: { } u } => u,
        Quantity { Value: { } q } => (double)q,
        _ => null,
    };

    private static void AddReference(string parameter, Base value, SearchIndexRows rows)
    {
        switch (value)
        {
            case ResourceReference reference:
                if (reference.Reference is { Length: > 0 } text && !text.StartsWith('#') && ReferenceTarget(text) is var (type, id))
                {
                    rows.References.Add(new ReferenceIndexEntry(parameter, type, id));
                }

                if (reference.Identifier is { } identifier)
                {
                    AddTokens(parameter + ":identifier", identifier, rows);
                }

                break;
            case PrimitiveType { JsonValue: string canonical } when canonical.Length > 0:
                rows.References.Add(new ReferenceIndexEntry(parameter, null, canonical.Split('|')[0]));
                break;
        }
    }

    /// <summary>
    /// "Patient/1" and "Patient/1/_history/2" are local (type and id); absolute URLs, urns and canonicals are kept
    /// whole with no type, because whether an absolute URL names this server is known only per request.
    /// </summary>
    public static (string? Type, string Id) ReferenceTarget(string reference)
    {
        var parts = reference.Split('/');
        if (!reference.Contains(':', StringComparison.Ordinal) && parts.Length is 2 or 4
            && Fhir.FhirModel.IsResourceType(parts[0]) && (parts.Length == 2 || parts[2] == "_history"))
        {
            return (parts[0], parts[1]);
        }

        return (null, reference);
    }

    private static void Deduplicate<T>(List<T> rows)
    {
        if (rows.Count > 1)
        {
            var distinct = rows.Distinct().ToList();
            if (distinct.Count != rows.Count)
            {
                rows.Clear();
                rows.AddRange(distinct);
            }
        }
    }
}
