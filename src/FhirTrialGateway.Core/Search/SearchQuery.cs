namespace FhirTrialGateway.Core.Search;

/// <summary>
/// A parsed search, independent of any database: clauses are ANDed, the values inside a clause are ORed.
/// <see cref="ResourceType"/> is null for a system-level search (then <see cref="Types"/> may narrow it).
/// A store compiles it into indexed queries over its index tables; nothing is filtered in memory.
/// </summary>
public sealed record SearchQuery(string? ResourceType, IReadOnlyList<SearchClause> Clauses)
{
    /// <summary>Page size; 0 asks only for the total.</summary>
    public int Count { get; init; } = 50;

    /// <summary>Where this page starts (null: the first page).</summary>
    public PageCursor? Cursor { get; init; }

    /// <summary>Upper bound of resource keys that existed when the search began, so pages neither repeat nor skip.</summary>
    public long? SnapshotKey { get; init; }

    public TotalMode Total { get; init; } = TotalMode.FirstPage;

    /// <summary>Sort keys in order; empty sorts by the store's key (creation order).</summary>
    public IReadOnlyList<SortKey> Sort { get; init; } = [];

    public IReadOnlyList<IncludeSpec> Includes { get; init; } = [];

    /// <summary>When set, only resources of this site match (a hospital client sees its own site's data only).</summary>
    public string? Site { get; init; }

    /// <summary>System level: <c>_type</c>.</summary>
    public IReadOnlyList<string> Types { get; init; } = [];
}

public enum TotalMode
{
    /// <summary><c>_total=none</c>.</summary>
    None,

    /// <summary>No <c>_total</c>: counted on the first page only (later pages would pay for it again and again).</summary>
    FirstPage,

    /// <summary><c>_total=accurate</c> (and estimate): counted on every page.</summary>
    Accurate,
}

/// <summary>A <c>_sort</c> key: a sortable parameter and its direction.</summary>
public sealed record SortKey(string Parameter, Hl7.Fhir.Model.SearchParamType Type, bool Descending);

/// <summary><c>_include=Source:param[:Target]</c> or <c>_revinclude</c>; <see cref="Parameter"/> "*" is every reference parameter.</summary>
public sealed record IncludeSpec(bool Reverse, string SourceType, string Parameter, string? TargetType, bool Iterate);

public abstract record SearchClause;

/// <summary><c>_id=a,b</c>.</summary>
public sealed record IdClause(IReadOnlyList<string> Ids) : SearchClause;

/// <summary>A token parameter with its ORed values; <see cref="Not"/> is the :not modifier.</summary>
public sealed record TokenClause(string Parameter, IReadOnlyList<TokenValue> Values, bool Not = false) : SearchClause;

public enum StringMatch
{
    StartsWith,
    Exact,
    Contains,
}

/// <summary>A string parameter (or a token's :text, stored under "param:text").</summary>
public sealed record StringClause(string Parameter, IReadOnlyList<string> Values, StringMatch Match) : SearchClause;

/// <summary>A date value: its prefix and the implicit range of the searched date (inclusive unix milliseconds).</summary>
public readonly record struct DateValue(Prefix Prefix, long Low, long High);

/// <summary>A date parameter; <c>_lastUpdated</c> is one too, evaluated on the resources table.</summary>
public sealed record DateClause(string Parameter, IReadOnlyList<DateValue> Values) : SearchClause;

/// <summary>A number or the numeric part of a quantity: the value as written and the range its precision implies.</summary>
public readonly record struct NumberValue(Prefix Prefix, double Value, double Low, double High);

public sealed record NumberClause(string Parameter, IReadOnlyList<NumberValue> Values) : SearchClause;

/// <summary><c>[prefix]number|system|code</c>; <see cref="System"/> null is any system, "" with a code matches code or unit.</summary>
public readonly record struct QuantityValue(NumberValue Number, string? System, string? Code);

public sealed record QuantityClause(string Parameter, IReadOnlyList<QuantityValue> Values) : SearchClause;

/// <summary>A reference target: <see cref="Type"/> and id for local ones, a null type for an id of any type or an absolute URL.</summary>
public readonly record struct ReferenceValue(string? Type, string Id);

public sealed record ReferenceClause(IReadOnlyList<string> Parameters, IReadOnlyList<ReferenceValue> Values) : SearchClause;

/// <summary>A chained parameter: the reference points at a resource that matches one of <see cref="Targets"/> (one query per target type).</summary>
public sealed record ChainClause(string Parameter, IReadOnlyList<SearchQuery> Targets) : SearchClause;

/// <summary><c>_has:Source:param:...</c>: some <see cref="Source"/> resource that matches refers to this one through <see cref="Parameter"/>.</summary>
public sealed record HasClause(SearchQuery Source, string Parameter) : SearchClause;

public enum UriMatch
{
    Exact,
    Below,
    Above,
}

public sealed record UriClause(string Parameter, IReadOnlyList<string> Values, UriMatch Match) : SearchClause;

/// <summary>The second part of a composite value: exactly one of token, number range (also dates in ms) or text.</summary>
public readonly record struct CompositeValue(TokenValue First, TokenValue? SecondToken, NumberValue? SecondNumber, string? SecondText)
{
    /// <summary>The second part is a date: its stored [low, high] is compared as a range, not as a point.</summary>
    public bool SecondIsRange { get; init; }
}

public sealed record CompositeClause(string Parameter, IReadOnlyList<CompositeValue> Values) : SearchClause;

/// <summary><c>param:missing=true|false</c>, on the index table of the parameter's type.</summary>
public sealed record MissingClause(string Parameter, Hl7.Fhir.Model.SearchParamType Type, bool Missing) : SearchClause;

/// <summary>
/// One token value in the R4 forms: <c>code</c> (any system: <see cref="System"/> null), <c>system|code</c>,
/// <c>|code</c> (no system: <see cref="System"/> empty) and <c>system|</c> (any code: <see cref="Code"/> null).
/// </summary>
public readonly record struct TokenValue(string? System, string? Code)
{
    public static TokenValue Parse(string raw)
    {
        var bar = IndexOfUnescaped(raw, '|');
        if (bar < 0)
        {
            return new TokenValue(null, Unescape(raw));
        }

        var system = Unescape(raw[..bar]);
        var code = Unescape(raw[(bar + 1)..]);
        return new TokenValue(system, code.Length == 0 ? null : code);
    }

    public override string ToString() => System is null ? Code ?? "" : $"{System}|{Code}";

    internal static int IndexOfUnescaped(string raw, char separator)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\')
            {
                i++;
            }
            else if (raw[i] == separator)
            {
                return i;
            }
        }

        return -1;
    }

    internal static string Unescape(string raw) => raw.Contains('\\', StringComparison.Ordinal)
        ? global::System.Text.RegularExpressions.Regex.Replace(raw, @"\\([,|$\\])", "$1")
        : raw;
}

/// <summary>
/// A page of matches with the included resources and the cursors of the next and previous pages (null when there is none).
/// </summary>
public sealed record SearchPage(
    IReadOnlyList<Storage.StoredResource> Matches,
    long? Total,
    PageCursor? Next,
    PageCursor? Previous,
    long SnapshotKey)
{
    public IReadOnlyList<Storage.StoredResource> Included { get; init; } = [];

    /// <summary>Set when the include limit cut the included resources short.</summary>
    public bool IncludesTruncated { get; init; }
}
