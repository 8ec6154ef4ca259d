using System.Text;
using FhirTrialGateway.Core.Search;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>SQL text under construction with its bound parameters; values never enter the text.</summary>
internal sealed class SqlText(SqliteCommand command, SearchKeys searchKeys)
{
    private int _next;

    public StringBuilder Text { get; } = new();

    /// <summary>Where the pids of the index rows the query reads come from.</summary>
    public SearchKeys SearchKeys => searchKeys;

    public SqlText Append(string text)
    {
        Text.Append(text);
        return this;
    }

    public SqlText Append(char character)
    {
        Text.Append(character);
        return this;
    }

    /// <summary>Binds <paramref name="value"/> and answers its parameter name.</summary>
    public string Bind(object? value)
    {
        var name = $"$p{_next++}";
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return name;
    }

    public string BindList(IEnumerable<object> values) => string.Join(", ", values.Select(Bind));
}

/// <summary>
/// Compiles one <see cref="SearchClause"/> into a condition on one index table. The same condition serves as the
/// driver of a query (alias d, looked up through the table's (pid, value, rid) index) or as a
/// per-resource check (EXISTS on alias x through the rid index). Comparisons follow R4 search: dates compare
/// their implicit ranges, numbers their precision ranges for eq/ne and exact values otherwise.
/// </summary>
internal static class SearchClauseSql
{
    /// <summary>Upper bound for prefix matches: every string that starts with p sorts below p + U+10FFFF.</summary>
    private const string PrefixEnd = "\U0010FFFF";

    /// <summary>The index table a clause reads, or null for clauses on the resources table or spanning tables.</summary>
    public static string? Table(SearchClause clause) => clause switch
    {
        TokenClause => "token_index",
        StringClause => "string_index",
        DateClause date when date.Parameter != SearchParameters.LastUpdated => "date_index",
        NumberClause => "number_index",
        QuantityClause => "quantity_index",
        ReferenceClause or ChainClause => "reference_index",
        UriClause => "uri_index",
        CompositeClause => "composite_index",
        MissingClause missing => TableOf(missing.Type),
        _ => null,
    };

    public static string TableOf(SearchParamType type) => type switch
    {
        SearchParamType.Token => "token_index",
        SearchParamType.String => "string_index",
        SearchParamType.Date => "date_index",
        SearchParamType.Number => "number_index",
        SearchParamType.Quantity => "quantity_index",
        SearchParamType.Reference => "reference_index",
        SearchParamType.Uri => "uri_index",
        _ => "composite_index",
    };

    /// <summary>How well a clause drives a query from its index (lower is better); null when it cannot.</summary>
    public static int? DriverRank(SearchClause clause) => clause switch
    {
        ReferenceClause => 1,
        ChainClause => 2,
        TokenClause { Not: false, Values.Count: 1 } token when token.Values[0].Code is not null => 3,
        TokenClause { Not: false } token when token.Values.All(v => v.Code is not null) => 4,
        CompositeClause => 4,
        StringClause { Match: not StringMatch.Contains } or UriClause { Match: not UriMatch.Above } => 5,
        QuantityClause or NumberClause => 6,
        DateClause date when date.Parameter != SearchParameters.LastUpdated && date.Values.All(v => v.Prefix == Prefix.Eq) => 6,
        _ => null,
    };

    /// <summary>Whether a check of this clause reads columns of the resources row <c>r</c> (not only the key).</summary>
    public static bool NeedsResourceRow(SearchClause clause) =>
        clause is IdClause or HasClause || (clause is DateClause date && date.Parameter == SearchParameters.LastUpdated);

    /// <summary>A condition on the candidate with key <paramref name="key"/> (or its resources row r) for a clause used as a check.</summary>
    public static void AppendCheck(SqlText sql, SearchClause clause, string? resourceType, string key)
    {
        switch (clause)
        {
            case IdClause ids:
                sql.Append("r.id IN (").Append(sql.BindList(ids.Ids)).Append(')');
                return;
            case DateClause date when date.Parameter == SearchParameters.LastUpdated:
                AppendAny(sql, date.Values, v => AppendRange(sql, "r.last_updated", "r.last_updated", v.Prefix, v.Low, v.High));
                return;
            case HasClause has:
                sql.Append("r.id IN (SELECT h.target_id FROM reference_index h WHERE ");
                AppendParameterRows(sql, "h", has.Source.ResourceType, [has.Parameter]);
                sql.Append("h.target_type = ").Append(resourceType is null ? "r.resource_type" : sql.Bind(resourceType))
                    .Append(" AND h.rid IN (");
                SearchSql.AppendSelect(sql, has.Source, SearchSql.KeyOnly);
                sql.Append("))");
                return;
            case MissingClause missing:
                sql.Append(missing.Missing ? "NOT EXISTS" : "EXISTS").Append(" (SELECT 1 FROM ").Append(TableOf(missing.Type)).Append(" x WHERE ");
                AppendParameterRows(sql, "x", resourceType, [missing.Parameter], ofKnownRid: true);
                sql.Append($"x.rid = {key})");
                return;
        }

        var negated = clause is TokenClause { Not: true };
        sql.Append(negated ? "NOT EXISTS" : "EXISTS").Append(" (SELECT 1 FROM ").Append(Table(clause)!).Append($" x WHERE x.rid = {key} AND ");
        AppendCondition(sql, clause, "x", resourceType, ofKnownRid: true);
        sql.Append(')');
    }

    /// <summary>The clause's condition on index rows of alias <paramref name="a"/>: the parameter and its ORed values.</summary>
    /// <param name="ofKnownRid">The rows are those of one resource (a.rid = key): see <see cref="ParameterRows"/>.</param>
    public static void AppendCondition(SqlText sql, SearchClause clause, string a, string? resourceType, bool ofKnownRid)
    {
        switch (clause)
        {
            case TokenClause token:
                AppendParameterRows(sql, a, resourceType, [token.Parameter], ofKnownRid);
                AppendAny(sql, token.Values, v => AppendToken(sql, a, "system", "code", v));
                break;
            case StringClause text:
                AppendParameterRows(sql, a, resourceType, [text.Parameter], ofKnownRid);
                AppendAny(sql, text.Values, v => AppendString(sql, $"{a}.norm", $"{a}.exact", text.Match, v));
                break;
            case DateClause date:
                AppendParameterRows(sql, a, resourceType, [date.Parameter], ofKnownRid);
                AppendAny(sql, date.Values, v => AppendRange(sql, $"{a}.low", $"{a}.high", v.Prefix, v.Low, v.High));
                break;
            case NumberClause number:
                AppendParameterRows(sql, a, resourceType, [number.Parameter], ofKnownRid);
                AppendAny(sql, number.Values, v => AppendPoint(sql, $"{a}.value", v));
                break;
            case QuantityClause quantity:
                AppendParameterRows(sql, a, resourceType, [quantity.Parameter], ofKnownRid);
                AppendAny(sql, quantity.Values, v => AppendQuantity(sql, a, v));
                break;
            case ReferenceClause reference:
                AppendParameterRows(sql, a, resourceType, reference.Parameters, ofKnownRid);
                AppendAny(sql, reference.Values, v =>
                {
                    sql.Append($"{a}.target_id = ").Append(sql.Bind(v.Id));
                    if (v.Type is not null)
                    {
                        sql.Append($" AND {a}.target_type = ").Append(sql.Bind(v.Type));
                    }
                });
                break;
            case ChainClause chain:
                AppendParameterRows(sql, a, resourceType, [chain.Parameter], ofKnownRid);
                AppendAny(sql, chain.Targets, target =>
                {
                    sql.Append($"{a}.target_type = ").Append(sql.Bind(target.ResourceType)).Append($" AND {a}.target_id IN (");
                    SearchSql.AppendSelect(sql, target, "r.id");
                    sql.Append(')');
                });
                break;
            case UriClause uri:
                AppendParameterRows(sql, a, resourceType, [uri.Parameter], ofKnownRid);
                AppendAny(sql, uri.Values, v => AppendUri(sql, $"{a}.uri", uri.Match, v));
                break;
            case CompositeClause composite:
                AppendParameterRows(sql, a, resourceType, [composite.Parameter], ofKnownRid);
                AppendAny(sql, composite.Values, v => AppendComposite(sql, a, v));
                break;
            default:
                throw new NotSupportedException($"The SQLite store cannot evaluate {clause.GetType().Name} on an index table.");
        }
    }

    /// <summary>
    /// "a.pid = p AND " for the rows of <paramref name="parameters"/> (ORed) of the type (of every type when it is null).
    /// A parameter stored as other parameters' rows (<see cref="SearchParameterInfo.StoredAs"/>) stands for those rows,
    /// restricted to its reference target type if it has one; a token's ":text" rows follow their parameter.
    /// </summary>
    public static void AppendParameterRows(SqlText sql, string a, string? resourceType, IReadOnlyList<string> parameters, bool ofKnownRid = false) =>
        sql.Append(ParameterRows(sql, a, resourceType, parameters, ofKnownRid));

    /// <summary>The condition of <see cref="AppendParameterRows"/> as text (its values bound on <paramref name="sql"/>).</summary>
    /// <param name="ofKnownRid">
    /// The query also names the rows' rid (a check of one candidate, a sort value, an _include): the pid is then
    /// written "+a.pid", which SQLite cannot look up through an index, so the rows are found by their (rid, n) key.
    /// Without it the planner, having no statistics, ranks the (pid, value) index above the rid key and reads every row
    /// of the parameter (measured: 32 instead of 1,968 searches/s for subject + code + date over 100,000 resources).
    /// </param>
    public static string ParameterRows(SqlText sql, string a, string? resourceType, IReadOnlyList<string> parameters, bool ofKnownRid = false)
    {
        var pid = ofKnownRid ? $"+{a}.pid" : $"{a}.pid";
        var plain = new List<string>();
        var typed = new List<(string Parameter, string TargetType)>();
        foreach (var parameter in parameters)
        {
            var text = parameter.EndsWith(":text", StringComparison.Ordinal);
            var name = text ? parameter[..^":text".Length] : parameter;
            var alias = resourceType is null ? null : SearchParameters.Instance.Find(resourceType, name)?.StoredAs;
            if (alias is null)
            {
                plain.Add(parameter);
                continue;
            }

            var stored = alias.Parameters.Select(p => text ? p + ":text" : p);
            if (alias.TargetType is null)
            {
                plain.AddRange(stored);
            }
            else
            {
                typed.AddRange(stored.Select(p => (p, alias.TargetType)));
            }
        }

        plain = [.. plain.Distinct(StringComparer.Ordinal)];
        typed = [.. typed.Distinct().Where(t => !plain.Contains(t.Parameter))]; // the whole parameter covers its typed part
        if (typed.Count == 0)
        {
            return Pids(sql, pid, resourceType, plain) + " AND ";
        }

        // The alias's own rows were "references that resolve to the type": local ones carry it, absolute URLs (kept whole,
        // with no type) name it in their path, as ValuePath's resolve() filter decides.
        var terms = typed.Select(t =>
        {
            var type = sql.Bind(t.TargetType);
            return $"({Pids(sql, pid, resourceType, [t.Parameter])} AND ({a}.target_type = {type} OR ({a}.target_type IS NULL AND "
                   + $"{a}.target_id LIKE {sql.Bind("%/" + t.TargetType + "/%")})))";
        }).ToList();
        if (plain.Count > 0)
        {
            terms.Insert(0, Pids(sql, pid, resourceType, plain));
        }

        return (terms.Count == 1 ? terms[0] : "(" + string.Join(" OR ", terms) + ")") + " AND ";
    }

    /// <summary>"a.pid = p" or "a.pid IN (...)": the pids of the parameters; a parameter never indexed has none and matches nothing.</summary>
    private static string Pids(SqlText sql, string column, string? resourceType, IReadOnlyList<string> parameters)
    {
        var pids = parameters
            .SelectMany(p => resourceType is null ? sql.SearchKeys.FindForEveryType(p) : [sql.SearchKeys.Find(resourceType, p)])
            .Where(pid => pid != SearchKeys.None).Distinct().Select(pid => (object)pid).ToList();
        return pids.Count switch
        {
            0 => $"{column} = {sql.Bind(SearchKeys.None)}",
            1 => $"{column} = {sql.Bind(pids[0])}",
            _ => $"{column} IN ({sql.BindList(pids)})",
        };
    }

    private static void AppendAny<T>(SqlText sql, IReadOnlyList<T> values, Action<T> append)
    {
        if (values.Count == 1)
        {
            append(values[0]);
            return;
        }

        sql.Append("((");
        for (var i = 0; i < values.Count; i++)
        {
            sql.Append(i == 0 ? "" : ") OR (");
            append(values[i]);
        }

        sql.Append("))");
    }

    private static void AppendToken(SqlText sql, string a, string systemColumn, string codeColumn, TokenValue value)
    {
        var conditions = new List<string>(2);
        if (value.Code is not null)
        {
            conditions.Add($"{a}.{codeColumn} = {sql.Bind(value.Code)}");
        }

        switch (value.System)
        {
            case null:
                break;
            case "":
                conditions.Add($"{a}.{systemColumn} IS NULL");
                break;
            default:
                conditions.Add($"{a}.{systemColumn} = {sql.Bind(value.System)}");
                break;
        }

        sql.Append(string.Join(" AND ", conditions));
    }

    private static void AppendString(SqlText sql, string normalized, string exact, StringMatch match, string value)
    {
        switch (match)
        {
            case StringMatch.Exact:
                sql.Append($"{exact} = ").Append(sql.Bind(value));
                break;
            case StringMatch.Contains:
                var pattern = "%" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                    .Replace("_", "\\_", StringComparison.Ordinal) + "%";
                sql.Append($"{normalized} LIKE ").Append(sql.Bind(pattern)).Append(" ESCAPE '\\'");
                break;
            default:
                sql.Append($"{normalized} >= ").Append(sql.Bind(value)).Append($" AND {normalized} < ").Append(sql.Bind(value + PrefixEnd));
                break;
        }
    }

    private static void AppendUri(SqlText sql, string column, UriMatch match, string value)
    {
        switch (match)
        {
            case UriMatch.Below:
                sql.Append($"{column} >= ").Append(sql.Bind(value)).Append($" AND {column} < ").Append(sql.Bind(value + PrefixEnd));
                break;
            case UriMatch.Above:
                var prefixes = new List<object> { value };
                for (var cut = value.LastIndexOf('/'); cut > 0 && value[cut - 1] != '/'; cut = value.LastIndexOf('/', cut - 1))
                {
                    prefixes.Add(value[..cut]);
                }

                sql.Append($"{column} IN (").Append(sql.BindList(prefixes)).Append(')');
                break;
            default:
                sql.Append($"{column} = ").Append(sql.Bind(value));
                break;
        }
    }

    /// <summary>
    /// Range comparison of a stored range [low, high] with the searched range [sl, sh] (R4 3.1.1.4.2): eq contains,
    /// gt/lt overlap what lies above/below, sa/eb lie wholly after/before, ap overlaps the range widened by 10% of its
    /// distance from now.
    /// </summary>
    public static void AppendRange(SqlText sql, string low, string high, Prefix prefix, long sl, long sh)
    {
        var l = sql.Bind(sl);
        var h = sql.Bind(sh);
        var eq = $"{low} >= {l} AND {low} <= {h} AND {high} <= {h}";
        sql.Append(prefix switch
        {
            Prefix.Eq => eq,
            Prefix.Ne => $"NOT ({eq})",
            Prefix.Gt => $"{high} > {h}",
            Prefix.Lt => $"{low} < {l}",
            Prefix.Ge => $"({high} > {h} OR ({eq}))",
            Prefix.Le => $"({low} < {l} OR ({eq}))",
            Prefix.Sa => $"{low} > {h}",
            Prefix.Eb => $"{high} < {l}",
            _ => Approximately(sql, low, high, sl, sh),
        });
    }

    private static string Approximately(SqlText sql, string low, string high, long sl, long sh)
    {
        var margin = Math.Max((long)(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - sl) * 0.1), sh - sl + 1);
        return $"{low} <= {sql.Bind(sh + margin)} AND {high} >= {sql.Bind(sl - margin)}";
    }

    /// <summary>A stored number against a searched one: eq/ne use the precision range of the searched value, the others its exact value.</summary>
    private static void AppendPoint(SqlText sql, string column, NumberValue value)
    {
        var v = value.Prefix is Prefix.Eq or Prefix.Ne or Prefix.Ap ? null : sql.Bind(value.Value);
        sql.Append(value.Prefix switch
        {
            Prefix.Eq => $"{column} >= {sql.Bind(value.Low)} AND {column} < {sql.Bind(value.High)}",
            Prefix.Ne => $"NOT ({column} >= {sql.Bind(value.Low)} AND {column} < {sql.Bind(value.High)})",
            Prefix.Gt or Prefix.Sa => $"{column} > {v}",
            Prefix.Lt or Prefix.Eb => $"{column} < {v}",
            Prefix.Ge => $"{column} >= {v}",
            Prefix.Le => $"{column} <= {v}",
            _ => $"{column} >= {sql.Bind(value.Value - (Math.Abs(value.Value) * 0.1))} AND {column} <= {sql.Bind(value.Value + (Math.Abs(value.Value) * 0.1))}",
        });
    }

    private static void AppendQuantity(SqlText sql, string a, QuantityValue value)
    {
        AppendPoint(sql, $"{a}.value", value.Number);
        if (value.System is not null)
        {
            sql.Append($" AND {a}.system = ").Append(sql.Bind(value.System));
        }

        if (value.Code is not null)
        {
            var code = sql.Bind(value.Code);
            sql.Append(value.System is null ? $" AND ({a}.code = {code} OR {a}.unit = {code})" : $" AND {a}.code = {code}");
        }
    }

    private static void AppendComposite(SqlText sql, string a, CompositeValue value)
    {
        AppendToken(sql, a, "system1", "code1", value.First);
        if (value.SecondNumber is { } number)
        {
            sql.Append(" AND ");
            if (value.SecondIsRange)
            {
                AppendRange(sql, $"{a}.low2", $"{a}.high2", number.Prefix, (long)number.Low, (long)number.High);
            }
            else
            {
                AppendPoint(sql, $"{a}.low2", number);
            }
        }

        if (value.SecondToken is { } token && (token.Code is not null || token.System is not null))
        {
            sql.Append(" AND ");
            AppendToken(sql, a, "system2", "code2", token);
        }

        if (value.SecondText is { } text)
        {
            sql.Append($" AND {a}.text2 >= ").Append(sql.Bind(text)).Append($" AND {a}.text2 < ").Append(sql.Bind(text + PrefixEnd));
        }
    }
}
