using System.Globalization;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// A search as the client asked for it, parsed: the store query, what was applied (for the self link), what was
/// ignored (reported in the bundle under lenient handling) and the result controls.
/// </summary>
public sealed record SearchRequest(
    SearchQuery Query,
    IReadOnlyList<KeyValuePair<string, string>> Applied,
    IReadOnlyList<string> Ignored,
    SummaryType Summary,
    string[]? Elements);

/// <summary>Limits of the search surface (configuration "Fhir").</summary>
public sealed record SearchLimits(int DefaultCount = 50, int MaxCount = 1000);

/// <summary>
/// Parses the search parameters of a type-level (or, with a null type, system-level) search: every R4 search
/// parameter of the type (<see cref="SearchParameters"/>), chains, <c>_has</c>, and the result parameters.
/// Unknown parameters and modifiers are ignored and reported (lenient) or rejected with 400 (strict); malformed
/// values are always 400.
/// </summary>
public static class SearchRequestParser
{
    /// <summary>Parameters the HTTP layer consumes (formatting).</summary>
    private static readonly HashSet<string> TransportParameters = new(StringComparer.Ordinal) { "_format", "_pretty" };

    internal const string CursorParameter = "_cursor";
    internal const string SnapshotParameter = "_snapshot";

    /// <summary>The type whose parameters a system-level search may use: the Resource-level ones.</summary>
    private const string SystemLevel = "Resource";

    public static SearchRequest Parse(string? resourceType, IEnumerable<KeyValuePair<string, string>> parameters,
        SearchLimits limits, bool strict, string? baseUrl = null)
    {
        if (resourceType is not null)
        {
            FhirModel.RequireResourceType(resourceType);
        }

        var parser = new ClauseParser(SearchParameters.Instance, baseUrl);
        var clauses = new List<SearchClause>();
        var applied = new List<KeyValuePair<string, string>>();
        var ignored = new List<string>();
        var count = limits.DefaultCount;
        var summary = SummaryType.False;
        var total = TotalMode.FirstPage;
        var sort = new List<SortKey>();
        var includes = new List<IncludeSpec>();
        var types = new List<string>();
        string[]? elements = null;
        PageCursor? cursor = null;
        long? snapshot = null;

        void Unsupported(string name, string why)
        {
            if (strict)
            {
                throw FhirException.BadRequest($"The search parameter '{name}' is not supported{why} by this server.", name,
                    OperationOutcome.IssueType.NotSupported);
            }

            ignored.Add(name);
        }

        foreach (var (name, value) in parameters)
        {
            switch (name)
            {
                case "_count":
                    count = Math.Min(ParseNonNegative(name, value), limits.MaxCount);
                    break;
                case "_summary":
                    summary = ParseSummary(value);
                    applied.Add(new(name, value));
                    break;
                case "_total":
                    total = value switch
                    {
                        "none" => TotalMode.None,
                        "accurate" or "estimate" => TotalMode.Accurate,
                        _ => throw FhirException.BadRequest($"_total must be none, estimate or accurate, not '{value}'.", "_total"),
                    };
                    applied.Add(new(name, value));
                    break;
                case "_elements":
                    elements = ClauseParser.SplitValues(value).ToArray();
                    applied.Add(new(name, value));
                    break;
                case "_sort":
                    var keys = ParseSort(resourceType ?? SystemLevel, value, out var unknownKeys);
                    if (unknownKeys.Count > 0)
                    {
                        Unsupported($"_sort={string.Join(',', unknownKeys)}", " for sorting");
                    }

                    if (keys.Count > 0)
                    {
                        sort = keys;
                        applied.Add(new(name, string.Join(',', keys.Select(k => (k.Descending ? "-" : "") + k.Parameter))));
                    }

                    break;
                case "_include" or "_revinclude" or "_include:iterate" or "_revinclude:iterate" or "_include:recurse" or "_revinclude:recurse":
                    if (ParseInclude(name, value, resourceType) is { } include)
                    {
                        includes.Add(include);
                        applied.Add(new(name, value));
                    }
                    else
                    {
                        Unsupported($"{name}={value}", "");
                    }

                    break;
                case "_type" when resourceType is null:
                    foreach (var type in ClauseParser.SplitValues(value))
                    {
                        FhirModel.RequireResourceType(type);
                        types.Add(type);
                    }

                    applied.Add(new(name, value));
                    break;
                case CursorParameter:
                    cursor = PageCursor.Decode(value);
                    break;
                case SnapshotParameter:
                    snapshot = ParseKey(name, value);
                    break;
                default:
                    if (TransportParameters.Contains(name))
                    {
                        break;
                    }

                    if (parser.Parse(resourceType ?? SystemLevel, name, value) is { } clause)
                    {
                        clauses.Add(clause);
                        applied.Add(new(name, value));
                    }
                    else
                    {
                        Unsupported(name, resourceType is null ? " at system level" : $" for {resourceType}");
                    }

                    break;
            }
        }

        if (summary == SummaryType.Count)
        {
            count = 0;
            total = TotalMode.Accurate;
        }

        var query = new SearchQuery(resourceType, clauses)
        {
            Count = count,
            Cursor = cursor,
            SnapshotKey = snapshot,
            Total = total,
            Sort = sort,
            Includes = includes,
            Types = types,
        };
        return new SearchRequest(query, applied, ignored, summary, elements);
    }

    /// <summary>Parses the query part of a conditional interaction (If-None-Exist, conditional update): strict.</summary>
    public static SearchQuery ParseCondition(string resourceType, string queryString)
    {
        var pairs = ParseQueryString(queryString);
        if (pairs.Count == 0)
        {
            throw FhirException.BadRequest("A conditional interaction needs at least one search parameter.");
        }

        var request = Parse(resourceType, pairs, new SearchLimits(), strict: true);
        if (request.Query.Clauses.Count == 0)
        {
            throw FhirException.BadRequest("A conditional interaction needs at least one search criterion, not only result parameters.");
        }

        return request.Query;
    }

    /// <summary>Splits <c>a=1&amp;b=2</c> (leading '?' allowed) into decoded pairs, keeping order and repeats.</summary>
    public static List<KeyValuePair<string, string>> ParseQueryString(string queryString)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var part in queryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            result.Add(new(name, value));
        }

        return result;
    }

    private static List<SortKey> ParseSort(string resourceType, string value, out List<string> unknown)
    {
        unknown = [];
        var keys = new List<SortKey>();
        foreach (var raw in ClauseParser.SplitValues(value))
        {
            var descending = raw.StartsWith('-');
            var name = descending ? raw[1..] : raw;
            if (SearchParameters.Instance.Find(resourceType, name) is { Type: not SearchParamType.Composite } parameter)
            {
                keys.Add(new SortKey(parameter.Name, parameter.Type, descending));
            }
            else
            {
                unknown.Add(raw);
            }
        }

        return keys;
    }

    private static IncludeSpec? ParseInclude(string name, string value, string? resourceType)
    {
        var reverse = name.StartsWith("_revinclude", StringComparison.Ordinal);
        var iterate = name.EndsWith(":iterate", StringComparison.Ordinal) || name.EndsWith(":recurse", StringComparison.Ordinal);
        var parts = value.Split(':');
        if (parts.Length is < 2 or > 3 || !FhirModel.IsResourceType(parts[0]))
        {
            return null;
        }

        if (!reverse && !iterate && resourceType is not null && parts[0] != resourceType)
        {
            return null; // a plain _include starts from the matches, so its source is the searched type
        }

        var target = parts.Length == 3 ? parts[2] : null;
        if (target is not null && !FhirModel.IsResourceType(target))
        {
            return null;
        }

        if (parts[1] != "*" && SearchParameters.Instance.Find(parts[0], parts[1]) is not { Type: SearchParamType.Reference })
        {
            return null;
        }

        return new IncludeSpec(reverse, parts[0], parts[1], target, iterate);
    }

    private static int ParseNonNegative(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw FhirException.BadRequest($"{name} must be a non-negative integer, not '{value}'.", name);

    private static long ParseKey(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw FhirException.BadRequest($"{name} is a paging cursor this server wrote; '{value}' is not one.", name);

    private static SummaryType ParseSummary(string value) => value switch
    {
        "true" => SummaryType.True,
        "false" => SummaryType.False,
        "count" => SummaryType.Count,
        "data" => SummaryType.Data,
        "text" => SummaryType.Text,
        _ => throw FhirException.BadRequest($"_summary must be true, false, count, data or text, not '{value}'.", "_summary"),
    };
}
