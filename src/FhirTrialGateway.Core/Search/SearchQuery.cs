namespace FhirTrialGateway.Core.Search;

/// <summary>
/// A parsed search against one resource type: clauses are ANDed, the values inside a clause are ORed.
/// The store turns it into an indexed query; nothing is filtered in memory.
/// </summary>
public sealed record SearchQuery(string ResourceType, IReadOnlyList<SearchClause> Clauses)
{
    /// <summary>Page size; 0 asks only for the total.</summary>
    public int Count { get; init; } = 50;

    /// <summary>Paging cursor: return matches whose key is greater than this.</summary>
    public long? AfterKey { get; init; }

    /// <summary>Upper bound of keys that existed when the search began, so pages neither repeat nor skip.</summary>
    public long? SnapshotKey { get; init; }

    public bool IncludeTotal { get; init; }
}

public abstract record SearchClause;

/// <summary><c>_id=a,b</c>.</summary>
public sealed record IdClause(IReadOnlyList<string> Ids) : SearchClause;

/// <summary>A token parameter (for example <c>identifier=system|value</c>) with its ORed values.</summary>
public sealed record TokenClause(string Parameter, IReadOnlyList<TokenValue> Values) : SearchClause;

/// <summary>
/// One token value in the R4 forms: <c>code</c> (any system: <see cref="System"/> null), <c>system|code</c>,
/// <c>|code</c> (no system: <see cref="System"/> empty) and <c>system|</c> (any code: <see cref="Code"/> null).
/// </summary>
public readonly record struct TokenValue(string? System, string? Code)
{
    public static TokenValue Parse(string raw)
    {
        var bar = raw.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0)
        {
            return new TokenValue(null, raw);
        }

        var system = raw[..bar];
        var code = raw[(bar + 1)..];
        return new TokenValue(system, code.Length == 0 ? null : code);
    }

    public override string ToString() => System is null ? Code ?? "" : $"{System}|{Code}";
}

/// <summary>A page of matches with the cursor of the next page (null at the end).</summary>
public sealed record SearchPage(
    IReadOnlyList<Storage.StoredResource> Matches,
    long? Total,
    long? NextAfterKey,
    long SnapshotKey);
