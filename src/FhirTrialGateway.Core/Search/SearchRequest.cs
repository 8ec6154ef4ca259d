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

/// <summary>Limits of the search surface (configuration "Search").</summary>
public sealed record SearchLimits(int DefaultCount = 50, int MaxCount = 1000);

/// <summary>
/// Parses search parameters for one resource type. Supported so far: <c>_id</c>, the indexed token parameters
/// (<c>identifier</c>), <c>_count</c>, <c>_summary</c>, <c>_total</c>, <c>_elements</c>. Unknown parameters are
/// ignored and reported (lenient) or rejected with 400 (strict); malformed values are always 400.
/// </summary>
public static class SearchRequestParser
{
    /// <summary>Parameters the HTTP layer consumes (formatting) or the server writes into its own paging links.</summary>
    private static readonly HashSet<string> TransportParameters = new(StringComparer.Ordinal) { "_format", "_pretty" };

    internal const string CursorParameter = "_cursor";
    internal const string SnapshotParameter = "_snapshot";

    public static SearchRequest Parse(string resourceType, IEnumerable<KeyValuePair<string, string>> parameters,
        SearchLimits limits, bool strict)
    {
        FhirModel.RequireResourceType(resourceType);
        var clauses = new List<SearchClause>();
        var applied = new List<KeyValuePair<string, string>>();
        var ignored = new List<string>();
        var count = limits.DefaultCount;
        var summary = SummaryType.False;
        var includeTotal = true; // _total=none turns the count off for large scans
        string[]? elements = null;
        long? cursor = null;
        long? snapshot = null;

        foreach (var (name, value) in parameters)
        {
            switch (name)
            {
                case "_id":
                    var ids = SplitValues(value);
                    if (ids.Count == 0)
                    {
                        throw FhirException.BadRequest("_id needs a value.", "_id");
                    }

                    clauses.Add(new IdClause(ids));
                    applied.Add(new(name, value));
                    break;
                case "_count":
                    count = Math.Min(ParseNonNegative(name, value), limits.MaxCount);
                    break;
                case "_summary":
                    summary = ParseSummary(value);
                    break;
                case "_total":
                    includeTotal = value switch
                    {
                        "none" => false,
                        "accurate" or "estimate" => true,
                        _ => throw FhirException.BadRequest($"_total must be none, estimate or accurate, not '{value}'.", "_total"),
                    };
                    break;
                case "_elements":
                    elements = SplitValues(value).ToArray();
                    break;
                case CursorParameter:
                    cursor = ParseKey(name, value);
                    break;
                case SnapshotParameter:
                    snapshot = ParseKey(name, value);
                    break;
                default:
                    if (TransportParameters.Contains(name))
                    {
                        break;
                    }

                    if (!name.Contains(':', StringComparison.Ordinal) && SearchIndexer.Instance.SupportsToken(resourceType, name))
                    {
                        var tokens = SplitValues(value).Select(TokenValue.Parse).Where(t => t.System is not null || t.Code is not null).ToList();
                        if (tokens.Count == 0)
                        {
                            throw FhirException.BadRequest($"The search parameter '{name}' needs a value.", name);
                        }

                        clauses.Add(new TokenClause(name, tokens));
                        applied.Add(new(name, value));
                        break;
                    }

                    if (strict)
                    {
                        throw FhirException.BadRequest(
                            $"The search parameter '{name}' is not supported for {resourceType} by this server.", name,
                            OperationOutcome.IssueType.NotSupported);
                    }

                    ignored.Add(name);
                    break;
            }
        }

        if (summary == SummaryType.Count)
        {
            count = 0;
            includeTotal = true;
        }

        var query = new SearchQuery(resourceType, clauses)
        {
            Count = count,
            AfterKey = cursor,
            SnapshotKey = snapshot,
            IncludeTotal = includeTotal,
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

    /// <summary>Comma-separated values with <c>\,</c> as an escaped comma (R4 search, escaping).</summary>
    private static List<string> SplitValues(string value)
    {
        var values = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length && value[i + 1] is ',' or '|' or '$' or '\\')
            {
                current.Append(value[++i]);
            }
            else if (value[i] == ',')
            {
                values.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(value[i]);
            }
        }

        values.Add(current.ToString());
        return values.Where(v => v.Length > 0).ToList();
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
