using System.Text;
using FhirTrialGateway.Core.Search;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Turns a <see cref="SearchQuery"/> into SQL over the resources and index tables. Every value is a parameter;
/// the SQL text is built only from constants. Token clauses drive the query through ix_token_lookup.
/// </summary>
internal static class SearchSql
{
    /// <summary>Columns of a version row, in the order <see cref="SqliteRows.ReadVersion"/> expects.</summary>
    public const string VersionColumns = "v.resource_type, v.id, v.version, v.last_updated, v.method, v.body, v.seq";

    /// <summary>Fills <paramref name="command"/> with "SELECT {select} FROM resources r ... WHERE ...".</summary>
    public static void Build(SqliteCommand command, SearchQuery query, string select, bool joinCurrentVersion, string? suffix)
    {
        var sql = new StringBuilder("SELECT ").Append(select).Append(" FROM resources r");
        if (joinCurrentVersion)
        {
            sql.Append(" JOIN resource_versions v ON v.seq = r.seq");
        }

        sql.Append(" WHERE r.resource_type = $type AND r.deleted = 0");
        command.Parameters.AddWithValue("$type", query.ResourceType);
        var n = 0;
        foreach (var clause in query.Clauses)
        {
            switch (clause)
            {
                case IdClause ids:
                    sql.Append(" AND r.id IN (");
                    for (var i = 0; i < ids.Ids.Count; i++)
                    {
                        var name = $"$p{n++}";
                        sql.Append(i == 0 ? "" : ", ").Append(name);
                        command.Parameters.AddWithValue(name, ids.Ids[i]);
                    }

                    sql.Append(')');
                    break;
                case TokenClause token:
                    AppendToken(sql, command, token, ref n);
                    break;
                default:
                    throw new NotSupportedException($"The SQLite store cannot evaluate {clause.GetType().Name}.");
            }
        }

        if (query.AfterKey is { } after)
        {
            sql.Append(" AND r.rid > $after");
            command.Parameters.AddWithValue("$after", after);
        }

        if (query.SnapshotKey is { } snapshot)
        {
            sql.Append(" AND r.rid <= $snapshot");
            command.Parameters.AddWithValue("$snapshot", snapshot);
        }

        if (suffix is not null)
        {
            sql.Append(' ').Append(suffix);
        }

        command.CommandText = sql.ToString();
    }

    private static void AppendToken(StringBuilder sql, SqliteCommand command, TokenClause token, ref int n)
    {
        var param = $"$p{n++}";
        command.Parameters.AddWithValue(param, token.Parameter);
        sql.Append(" AND r.rid IN (SELECT t.rid FROM token_index t WHERE t.resource_type = $type AND t.param = ")
            .Append(param).Append(" AND (");
        for (var i = 0; i < token.Values.Count; i++)
        {
            var value = token.Values[i];
            sql.Append(i == 0 ? "(" : " OR (");
            var conditions = new List<string>(2);
            if (value.Code is not null)
            {
                var code = $"$p{n++}";
                command.Parameters.AddWithValue(code, value.Code);
                conditions.Add($"t.code = {code}");
            }

            switch (value.System)
            {
                case null:
                    break;
                case "":
                    conditions.Add("t.system IS NULL");
                    break;
                default:
                    var system = $"$p{n++}";
                    command.Parameters.AddWithValue(system, value.System);
                    conditions.Add($"t.system = {system}");
                    break;
            }

            sql.Append(string.Join(" AND ", conditions)).Append(')');
        }

        sql.Append("))");
    }
}
