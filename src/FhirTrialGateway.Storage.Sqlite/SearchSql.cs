using FhirTrialGateway.Core.Search;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Turns a <see cref="SearchQuery"/> into SQL over the resources and index tables. Every value is a bound parameter;
/// the text is built from constants only. Shape: the most selective clause drives the query from its index
/// (alias d, joined to resources r); every other clause is an EXISTS check on the candidate's rid. With no usable
/// driver the type's resources are scanned in rid order. Pages are keyset pages on (sort keys..., rid), bounded by
/// the snapshot key so a page never sees resources created after the search began.
/// </summary>
internal static class SearchSql
{
    /// <summary>Columns of a version row, in the order <see cref="SqliteRows.ReadVersion"/> expects.</summary>
    public const string VersionColumns = "v.resource_type, v.id, v.version, v.last_updated, v.method, v.body, v.seq, v.site";

    /// <summary>The current version of one resource (parameters $type, $id): a read, and the writer's check before a write.</summary>
    public const string ReadCurrent = $"SELECT {VersionColumns} FROM resources r JOIN resource_versions v ON v.seq = r.seq " +
                                      "WHERE r.resource_type = $type AND r.id = $id";

    /// <summary>How many columns <see cref="VersionColumns"/> has (columns selected after it start here).</summary>
    public const int VersionColumnCount = 8;

    public static readonly string[] IndexTables =
    [
        "token_index", "string_index", "date_index", "number_index", "quantity_index", "reference_index", "uri_index", "composite_index",
    ];

    /// <summary>Sort values of resources without a value: after every real value in both directions.</summary>
    private const double HighNumber = 1.7e308;

    private const double LowNumber = -1.7e308;

    private const string HighText = "\U0010FFFF";

    /// <summary>Selects only the store key of each match (for IN subqueries).</summary>
    public const string KeyOnly = "$key";

    /// <summary>Ids of matches in key order (conditional interactions).</summary>
    public static void BuildIds(SqliteCommand command, SearchQuery query, int limit, SearchKeys searchKeys)
    {
        var sql = new SqlText(command, searchKeys);
        var key = AppendSelect(sql, query, "r.id");
        sql.Append($" ORDER BY {key} LIMIT {limit}");
        command.CommandText = sql.Text.ToString();
    }

    public static void BuildCount(SqliteCommand command, SearchQuery query, SearchKeys searchKeys)
    {
        var sql = new SqlText(command, searchKeys);
        sql.Append("SELECT COUNT(*) FROM (");
        AppendSelect(sql, query with { Cursor = null, Sort = [] }, "1", withSnapshot: true);
        sql.Append(')');
        command.CommandText = sql.Text.ToString();
    }

    /// <summary>
    /// One page plus one row (to know whether another page follows): columns key, the version columns, then the sort
    /// values. A backward page (previous link) runs in reverse order; the caller reverses the rows.
    /// </summary>
    public static void BuildPage(SqliteCommand command, SearchQuery query, SearchKeys searchKeys)
    {
        var sql = new SqlText(command, searchKeys);
        var backward = query.Cursor?.Backward == true;
        if (query.Sort.Count == 0)
        {
            // Flat, so that SQLite walks the driver's (..., rid) index from the cursor and stops after one page.
            var key = AppendSelect(sql, query with { Cursor = null }, null, withSnapshot: true, joinVersion: true,
                extraCondition: query.Cursor is { } c ? k => sql.Append($" AND {k} {(backward ? "<" : ">")} ").Append(sql.Bind(c.Key)) : null);
            sql.Append($" ORDER BY {key}{(backward ? " DESC" : "")} LIMIT {query.Count + 1}");
            command.CommandText = sql.Text.ToString();
            return;
        }

        // Sorted: every match is sorted anyway, so the keyset condition applies to the computed sort values.
        var sortExpressions = query.Sort.Select(k => SortExpression(sql, k, query.ResourceType)).ToList();
        sql.Append("SELECT * FROM (");
        AppendSelect(sql, query with { Cursor = null }, null, withSnapshot: true, joinVersion: true,
            extraColumns: sortExpressions.Select((e, i) => $"{e} AS s{i}").ToList());
        sql.Append(") AS page");
        if (query.Cursor is { } cursor)
        {
            sql.Append(" WHERE ");
            AppendKeyset(sql, query.Sort, cursor);
        }

        var order = query.Sort.Select((k, i) => $"s{i}{(k.Descending != backward ? " DESC" : "")}")
            .Append(backward ? "k DESC" : "k");
        sql.Append(" ORDER BY ").Append(string.Join(", ", order)).Append($" LIMIT {query.Count + 1}");
        command.CommandText = sql.Text.ToString();
    }

    /// <summary>
    /// Appends "SELECT {select} FROM ... WHERE ..." for the matches of <paramref name="query"/> (no paging) and answers
    /// the key expression. A null <paramref name="select"/> selects "key AS k" plus <paramref name="extraColumns"/>.
    /// </summary>
    public static string AppendSelect(SqlText sql, SearchQuery query, string? select, bool withSnapshot = false,
        bool joinVersion = false, IReadOnlyList<string>? extraColumns = null, Action<string>? extraCondition = null)
    {
        var driver = query.Clauses.Any(c => c is IdClause) || query.ResourceType is null
            ? null
            : query.Clauses.Select(c => (Clause: c, Rank: SearchClauseSql.DriverRank(c)))
                .Where(c => c.Rank is not null).OrderBy(c => c.Rank).Select(c => c.Clause).FirstOrDefault();
        var key = driver is null ? "r.rid" : "d.rid";
        var columns = select == KeyOnly ? key : select ?? string.Join(", ", new[] { $"{key} AS k", VersionColumns }.Concat(extraColumns ?? []));

        // A driver's index rows exist only for current, non-deleted versions, so the resources row is joined only
        // when something reads it (the page's body, _id, _lastUpdated, _has, sort keys or a selected r column).
        var joinResources = driver is null || joinVersion || columns.Contains("r.", StringComparison.Ordinal)
                            || query.Clauses.Any(SearchClauseSql.NeedsResourceRow) || query.Site is not null;
        sql.Append("SELECT ").Append(columns);
        if (driver is not null)
        {
            sql.Append(" FROM ").Append(SearchClauseSql.Table(driver)!).Append(" d");
            if (joinResources)
            {
                sql.Append(" JOIN resources r ON r.rid = d.rid");
            }
        }
        else
        {
            sql.Append(" FROM resources r");
        }

        if (joinVersion)
        {
            sql.Append(" JOIN resource_versions v ON v.seq = r.seq");
        }

        sql.Append(driver is null ? " WHERE r.deleted = 0" : " WHERE 1 = 1");
        if (query.ResourceType is not null)
        {
            if (driver is null)
            {
                sql.Append(" AND r.resource_type = ").Append(sql.Bind(query.ResourceType)); // a driver's pid names the type
            }
        }
        else if (query.Types.Count > 0)
        {
            sql.Append(" AND r.resource_type IN (").Append(sql.BindList(query.Types)).Append(')');
        }

        if (query.Site is not null)
        {
            sql.Append(" AND r.site = ").Append(sql.Bind(query.Site));
        }

        if (driver is not null)
        {
            sql.Append(" AND ");
            SearchClauseSql.AppendCondition(sql, driver, "d", query.ResourceType, ofKnownRid: false);
        }

        foreach (var clause in query.Clauses.Where(c => !ReferenceEquals(c, driver)))
        {
            sql.Append(" AND ");
            SearchClauseSql.AppendCheck(sql, clause, query.ResourceType, key);
        }

        if (withSnapshot && query.SnapshotKey is { } snapshot)
        {
            sql.Append($" AND {key} <= ").Append(sql.Bind(snapshot));
        }

        extraCondition?.Invoke(key);

        if (driver is not null)
        {
            sql.Append($" GROUP BY {key}"); // a resource with several matching rows is one match
        }

        return key;
    }

    /// <summary>
    /// Rows after (or, backward, before) the cursor in the order (s0, s1, ..., k): the usual expansion
    /// (s0 > v0) OR (s0 = v0 AND ((s1 > v1) OR (s1 = v1 AND k > key))), with the comparison flipped for descending keys.
    /// </summary>
    private static void AppendKeyset(SqlText sql, IReadOnlyList<SortKey> sort, PageCursor cursor)
    {
        if (cursor.SortValues.Count != sort.Count)
        {
            throw Core.Fhir.FhirException.BadRequest("The paging cursor does not belong to this search's _sort.", "_cursor");
        }

        var text = "";
        var close = "";
        for (var i = 0; i < sort.Count; i++)
        {
            var after = sort[i].Descending != cursor.Backward ? "<" : ">";
            var value = sql.Bind(cursor.SortValues[i]);
            text += $"(s{i} {after} {value} OR (s{i} = {value} AND ";
            close += "))";
        }

        text += $"k {(cursor.Backward ? "<" : ">")} {sql.Bind(cursor.Key)}" + close;
        sql.Append(text);
    }

    /// <summary>
    /// The value a resource sorts by for one key (R4: the lowest value ascending, the highest descending), with
    /// resources lacking a value last either way.
    /// </summary>
    private static string SortExpression(SqlText sql, SortKey key, string? resourceType)
    {
        var numeric = key.Type is SearchParamType.Date or SearchParamType.Number or SearchParamType.Quantity
                      || key.Parameter == SearchParameters.LastUpdated;
        var missing = numeric
            ? sql.Bind(key.Descending ? LowNumber : HighNumber)
            : sql.Bind(key.Descending ? "" : HighText);
        if (key.Parameter == SearchParameters.Id)
        {
            return "r.id";
        }

        if (key.Parameter == SearchParameters.LastUpdated)
        {
            // The write sequence orders versions as lastUpdated does (the writer's clock never goes back) and also
            // orders writes within one millisecond, so "-_lastUpdated" is newest first even between equal instants.
            return "r.seq";
        }

        var aggregate = key.Descending ? "MAX" : "MIN";
        var column = key.Type switch
        {
            SearchParamType.Token => "code",
            SearchParamType.String => "norm",
            SearchParamType.Date => key.Descending ? "high" : "low",
            SearchParamType.Number or SearchParamType.Quantity => "value",
            SearchParamType.Reference => "target_id",
            _ => "uri",
        };
        var rows = SearchClauseSql.ParameterRows(sql, "x", resourceType, [key.Parameter], ofKnownRid: true);
        return $"COALESCE((SELECT {aggregate}(x.{column}) FROM {SearchClauseSql.TableOf(key.Type)} x WHERE {rows}x.rid = r.rid), {missing})";
    }
}
