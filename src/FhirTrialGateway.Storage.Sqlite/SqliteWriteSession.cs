using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The write side of the store, owned by the single writer thread: one connection, prepared statements reused for
/// every write, and the counters (version sequence, commit clock) that only the writer advances.
/// </summary>
internal sealed class SqliteWriteSession : IWriteSession, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _readCurrent;
    private readonly SqliteCommand _upsertResource;
    private readonly SqliteCommand _insertVersion;
    private readonly SqliteCommand _deleteTokens;
    private readonly SqliteCommand _insertToken;
    private long _lastSequence;
    private long _lastMilliseconds;

    public SqliteWriteSession(SqliteConnection connection)
    {
        _connection = connection;
        using (var max = connection.CreateCommand())
        {
            max.CommandText = "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(last_updated), 0) FROM resource_versions";
            using var reader = max.ExecuteReader();
            reader.Read();
            _lastSequence = reader.GetInt64(0);
            _lastMilliseconds = reader.GetInt64(1);
        }

        _readCurrent = Prepare(
            $"SELECT {SearchSql.VersionColumns} FROM resources r JOIN resource_versions v ON v.seq = r.seq " +
            "WHERE r.resource_type = $type AND r.id = $id", "$type", "$id");
        _upsertResource = Prepare(
            "INSERT INTO resources (resource_type, id, version, seq, deleted, last_updated) " +
            "VALUES ($type, $id, $version, $seq, $deleted, $lu) " +
            "ON CONFLICT (resource_type, id) DO UPDATE SET version = excluded.version, seq = excluded.seq, " +
            "deleted = excluded.deleted, last_updated = excluded.last_updated RETURNING rid",
            "$type", "$id", "$version", "$seq", "$deleted", "$lu");
        _insertVersion = Prepare(
            "INSERT INTO resource_versions (seq, rid, resource_type, id, version, last_updated, method, body) " +
            "VALUES ($seq, $rid, $type, $id, $version, $lu, $method, $body)",
            "$seq", "$rid", "$type", "$id", "$version", "$lu", "$method", "$body");
        _deleteTokens = Prepare("DELETE FROM token_index WHERE rid = $rid", "$rid");
        _insertToken = Prepare(
            "INSERT INTO token_index (rid, resource_type, param, system, code) VALUES ($rid, $type, $param, $system, $code)",
            "$rid", "$type", "$param", "$system", "$code");
    }

    public SqliteTransaction? Transaction { get; set; }

    public DateTimeOffset Now
    {
        get
        {
            // Millisecond precision (what FHIR instants carry through JSON) and never behind an earlier write,
            // so lastUpdated orders like the sequence even if the wall clock steps back.
            var now = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _lastMilliseconds);
            _lastMilliseconds = now;
            return DateTimeOffset.FromUnixTimeMilliseconds(now);
        }
    }

    public StoredResource? ReadCurrent(string resourceType, string id)
    {
        _readCurrent.Transaction = Transaction;
        _readCurrent.Parameters["$type"].Value = resourceType;
        _readCurrent.Parameters["$id"].Value = id;
        using var reader = _readCurrent.ExecuteReader();
        return reader.Read() ? SqliteRows.ReadVersion(reader) : null;
    }

    public IReadOnlyList<string> FindIds(SearchQuery query, int limit)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = Transaction;
        SearchSql.Build(command, query, "r.id", joinCurrentVersion: false, $"ORDER BY r.rid LIMIT {limit}");
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public long Append(NewVersion version)
    {
        var sequence = ++_lastSequence;
        var lastUpdated = SqliteRows.ToUnixMilliseconds(version.LastUpdated);
        var deleted = version.Method == VersionMethod.Delete;

        Bind(_upsertResource, ("$type", version.ResourceType), ("$id", version.Id), ("$version", version.Version), ("$seq", sequence),
            ("$deleted", deleted ? 1 : 0), ("$lu", lastUpdated));
        var rid = (long)_upsertResource.ExecuteScalar()!;

        Bind(_insertVersion, ("$seq", sequence), ("$rid", rid), ("$type", version.ResourceType), ("$id", version.Id),
            ("$version", version.Version), ("$lu", lastUpdated), ("$method", (int)version.Method),
            ("$body", (object?)version.Json ?? DBNull.Value));
        _insertVersion.ExecuteNonQuery();

        if (version.Version > 1)
        {
            Bind(_deleteTokens, ("$rid", rid));
            _deleteTokens.ExecuteNonQuery();
        }

        foreach (var token in version.Tokens)
        {
            Bind(_insertToken, ("$rid", rid), ("$type", version.ResourceType), ("$param", token.Parameter),
                ("$system", (object?)token.System ?? DBNull.Value), ("$code", token.Code));
            _insertToken.ExecuteNonQuery();
        }

        return sequence;
    }

    /// <summary>After a failed unit of work the counters stay ahead: gaps in the sequence are harmless.</summary>
    public void Dispose()
    {
        _readCurrent.Dispose();
        _upsertResource.Dispose();
        _insertVersion.Dispose();
        _deleteTokens.Dispose();
        _insertToken.Dispose();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private void Bind(SqliteCommand command, params (string Name, object Value)[] values)
    {
        command.Transaction = Transaction;
        foreach (var (name, value) in values)
        {
            command.Parameters[name].Value = value;
        }
    }
}
