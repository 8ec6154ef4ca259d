using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// _include and _revinclude for one page, through the reference index: _include follows the page's reference rows
/// to their targets (by type and id), _revinclude finds the rows that point at the page. :iterate repeats on what
/// was included until nothing new comes (bounded in depth and count).
/// </summary>
internal static class SearchIncludes
{
    public const int MaxIncluded = 5000;

    private const int MaxDepth = 4;

    private const int Chunk = 500;

    /// <summary>A resource with its store key, which _include needs to find its reference rows.</summary>
    public readonly record struct Keyed(long Key, StoredResource Resource);

    public static (List<StoredResource> Included, bool Truncated) Run(SqliteConnection connection, SqliteTransaction transaction,
        SearchKeys searchKeys, IReadOnlyList<IncludeSpec> includes, IReadOnlyList<Keyed> matches)
    {
        var seen = new HashSet<(string, string)>(matches.Select(m => (m.Resource.ResourceType, m.Resource.Id)));
        var included = new List<StoredResource>();
        var frontier = matches.ToList();
        for (var depth = 0; depth <= MaxDepth && frontier.Count > 0; depth++)
        {
            var next = new List<Keyed>();
            foreach (var include in includes.Where(i => depth == 0 || i.Iterate))
            {
                foreach (var found in Follow(connection, transaction, searchKeys, include, frontier))
                {
                    if (included.Count >= MaxIncluded)
                    {
                        return (included, true);
                    }

                    if (seen.Add((found.Resource.ResourceType, found.Resource.Id)))
                    {
                        included.Add(found.Resource);
                        next.Add(found);
                    }
                }
            }

            frontier = next;
        }

        return (included, false);
    }

    private static List<Keyed> Follow(SqliteConnection connection, SqliteTransaction transaction, SearchKeys searchKeys, IncludeSpec include,
        List<Keyed> from)
    {
        var result = new List<Keyed>();
        IReadOnlyList<string> parameters = include.Parameter == "*"
            ? SearchParameters.Instance.For(include.SourceType).Values.Where(p => p.Type == SearchParamType.Reference).Select(p => p.Name).ToList()
            : [include.Parameter];
        if (!include.Reverse)
        {
            var sources = from.Where(f => f.Resource.ResourceType == include.SourceType).Select(f => (object)f.Key).ToList();
            foreach (var chunk in sources.Chunk(Chunk))
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                var sql = new SqlText(command, searchKeys);
                sql.Append($"SELECT DISTINCT r.rid, {SearchSql.VersionColumns} FROM reference_index x ")
                    .Append("JOIN resources r ON r.resource_type = x.target_type AND r.id = x.target_id JOIN resource_versions v ON v.seq = r.seq ")
                    .Append("WHERE x.rid IN (").Append(sql.BindList(chunk)).Append(") AND ");
                SearchClauseSql.AppendParameterRows(sql, "x", include.SourceType, parameters, ofKnownRid: true);
                sql.Append("r.deleted = 0");
                if (include.TargetType is not null)
                {
                    sql.Append(" AND x.target_type = ").Append(sql.Bind(include.TargetType));
                }

                command.CommandText = sql.Text.ToString();
                Read(command, result);
            }

            return result;
        }

        foreach (var group in from.GroupBy(f => f.Resource.ResourceType))
        {
            if (include.TargetType is not null && include.TargetType != group.Key)
            {
                continue;
            }

            foreach (var chunk in group.Select(f => (object)f.Resource.Id).Chunk(Chunk))
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                var sql = new SqlText(command, searchKeys);
                sql.Append($"SELECT DISTINCT r.rid, {SearchSql.VersionColumns} FROM reference_index x ")
                    .Append("JOIN resources r ON r.rid = x.rid JOIN resource_versions v ON v.seq = r.seq ")
                    .Append("WHERE ");
                SearchClauseSql.AppendParameterRows(sql, "x", include.SourceType, parameters);
                sql.Append("x.target_id IN (").Append(sql.BindList(chunk))
                    .Append(") AND x.target_type = ").Append(sql.Bind(group.Key)).Append(" AND r.deleted = 0");
                command.CommandText = sql.Text.ToString();
                Read(command, result);
            }
        }

        return result;
    }

    private static void Read(SqliteCommand command, List<Keyed> result)
    {
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add(new Keyed(reader.GetInt64(0), SqliteRows.ReadVersion(reader, 1)));
        }
    }
}
