using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The write side of the store, owned by the single writer thread: one connection, prepared statements reused for
/// every write, and the counters (version sequence, commit clock) that only the writer advances.
/// </summary>
internal sealed partial class SqliteWriteSession : IWriteSession, IDisposable
{
    /// <summary>
    /// The columns every index table starts with: (rid, n) is its key, n numbering a resource's rows in the table; pid
    /// names the row's resource type and search parameter (<see cref="SearchKeys"/>).
    /// </summary>
    private static readonly string[] KeyColumns = ["rid", "n", "pid"];

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _readCurrent;
    private readonly SqliteCommand _insertResource;
    private readonly SqliteCommand _updateResource;
    private readonly SqliteCommand _findRid;
    private readonly SqliteCommand _insertVersion;
    private readonly SqliteCommand[] _deleteIndexRows;
    private readonly SqliteCommand _insertToken;
    private readonly SqliteCommand _insertString;
    private readonly SqliteCommand _insertDate;
    private readonly SqliteCommand _insertNumber;
    private readonly SqliteCommand _insertQuantity;
    private readonly SqliteCommand _insertReference;
    private readonly SqliteCommand _insertUri;
    private readonly SqliteCommand _insertComposite;
    private readonly SqliteCommand _insertSearchKey;
    private readonly SearchKeys _searchKeys;

    /// <summary>The pids whose search_keys row is committed in the file.</summary>
    private readonly HashSet<long> _searchKeysInFile = [];

    /// <summary>Pids this group's rows use that have no committed row yet: written just before the commit.</summary>
    private readonly Dictionary<long, (string Type, string Parameter)> _searchKeysToWrite = [];
    private long _lastSequence;
    private long _lastMilliseconds;

    public SqliteWriteSession(SqliteConnection connection, SearchKeys searchKeys)
    {
        _connection = connection;
        _searchKeys = searchKeys;
        using (var max = connection.CreateCommand())
        {
            max.CommandText = "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(last_updated), 0) FROM resource_versions";
            using var reader = max.ExecuteReader();
            reader.Read();
            _lastSequence = reader.GetInt64(0);
            _lastMilliseconds = reader.GetInt64(1);
        }

        _readCurrent = Prepare(SearchSql.ReadCurrent, "$type", "$id");
        // A plain INSERT for a first version and an UPDATE after it, without RETURNING: SQLite runs an upsert or a
        // RETURNING clause (possible further writes) in a statement sub-transaction, and ending one truncates the
        // in-memory sub-journal by walking it from its start, so each entry of a transaction bundle paid for the size
        // of every entry before it (memjrnlTruncate: 9% of the writer's CPU on 100-entry bundles in a perf profile).
        _insertResource = Prepare(
            "INSERT INTO resources (resource_type, id, version, seq, deleted, last_updated, site) " +
            "VALUES ($type, $id, $version, $seq, $deleted, $lu, $site)",
            "$type", "$id", "$version", "$seq", "$deleted", "$lu", "$site");
        _updateResource = Prepare(
            "UPDATE resources SET version = $version, seq = $seq, deleted = $deleted, last_updated = $lu, site = $site " +
            "WHERE rid = $rid",
            "$rid", "$version", "$seq", "$deleted", "$lu", "$site");
        _findRid = Prepare("SELECT rid FROM resources WHERE resource_type = $type AND id = $id", "$type", "$id");
        _insertVersion = Prepare(
            "INSERT INTO resource_versions (seq, rid, resource_type, id, version, last_updated, method, body, site) " +
            "VALUES ($seq, $rid, $type, $id, $version, $lu, $method, $body, $site)",
            "$seq", "$rid", "$type", "$id", "$version", "$lu", "$method", "$body", "$site");
        _deleteIndexRows = SearchSql.IndexTables.Select(table => Prepare($"DELETE FROM {table} WHERE rid = $rid", "$rid")).ToArray();
        _insertToken = PrepareInsert("token_index", "system", "code");
        _insertString = PrepareInsert("string_index", "norm", "exact");
        _insertDate = PrepareInsert("date_index", "low", "high");
        _insertNumber = PrepareInsert("number_index", "value");
        _insertQuantity = PrepareInsert("quantity_index", "system", "code", "unit", "value");
        _insertReference = PrepareInsert("reference_index", "target_type", "target_id");
        _insertUri = PrepareInsert("uri_index", "uri");
        _insertComposite = PrepareInsert("composite_index", "system1", "code1", "system2", "code2", "low2", "high2", "text2");
        _insertSearchKey = Prepare("INSERT INTO search_keys (pid, resource_type, param) VALUES ($pid, $type, $param)", "$pid", "$type", "$param");
        ReadSearchKeysInFile();
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
        WriteHeldIndexRows();
        using var command = _connection.CreateCommand();
        command.Transaction = Transaction;
        SearchSql.BuildIds(command, query, limit, _searchKeys);
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

        // Version 1 is a new row; a later version (also a re-create after a delete) updates the resource's row.
        long rid;
        var site = (object?)version.Site ?? DBNull.Value;
        if (version.Version == 1)
        {
            Bind(_insertResource, ("$type", version.ResourceType), ("$id", version.Id), ("$version", version.Version), ("$seq", sequence),
                ("$deleted", deleted ? 1 : 0), ("$lu", lastUpdated), ("$site", site));
            _insertResource.ExecuteNonQuery();
            rid = SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
        }
        else
        {
            Bind(_findRid, ("$type", version.ResourceType), ("$id", version.Id));
            rid = _findRid.ExecuteScalar() as long?
                  ?? throw new InvalidOperationException($"{version.ResourceType}/{version.Id} has no resource row to take version {version.Version}.");
            Bind(_updateResource, ("$rid", rid), ("$version", version.Version), ("$seq", sequence), ("$deleted", deleted ? 1 : 0),
                ("$lu", lastUpdated), ("$site", site));
            _updateResource.ExecuteNonQuery();
        }

        Bind(_insertVersion, ("$seq", sequence), ("$rid", rid), ("$type", version.ResourceType), ("$id", version.Id),
            ("$version", version.Version), ("$lu", lastUpdated), ("$method", (int)version.Method),
            ("$body", (object?)version.Json ?? DBNull.Value), ("$site", site));
        _insertVersion.ExecuteNonQuery();

        HoldIndexRows(rid, version.ResourceType, version.Index, replacesRows: version.Version > 1);
        return sequence;
    }

    /// <summary>After a failed unit of work the counters stay ahead: gaps in the sequence are harmless.</summary>
    public void Dispose()
    {
        DisposeAuditCommands();
        _readCurrent.Dispose();
        _insertResource.Dispose();
        _updateResource.Dispose();
        _findRid.Dispose();
        _insertVersion.Dispose();
        _insertSearchKey.Dispose();
        foreach (var command in _deleteIndexRows.Concat([_insertToken, _insertString, _insertDate, _insertNumber, _insertQuantity,
                     _insertReference, _insertUri, _insertComposite]))
        {
            command.Dispose();
        }
    }

    private void WriteIndexRows(long rid, string type, SearchIndexRows rows)
    {
        var n = 0;
        foreach (var row in rows.Tokens)
        {
            Insert(_insertToken, rid, n++, type, row.Parameter, row.System, row.Code);
        }

        n = 0;
        foreach (var row in rows.Strings)
        {
            Insert(_insertString, rid, n++, type, row.Parameter, row.Normalized, row.Exact);
        }

        n = 0;
        foreach (var row in rows.Dates)
        {
            Insert(_insertDate, rid, n++, type, row.Parameter, row.Low, row.High);
        }

        n = 0;
        foreach (var row in rows.Numbers)
        {
            Insert(_insertNumber, rid, n++, type, row.Parameter, row.Value);
        }

        n = 0;
        foreach (var row in rows.Quantities)
        {
            Insert(_insertQuantity, rid, n++, type, row.Parameter, row.System, row.Code, row.Unit, row.Value);
        }

        n = 0;
        foreach (var row in rows.References)
        {
            Insert(_insertReference, rid, n++, type, row.Parameter, row.TargetType, row.TargetId);
        }

        n = 0;
        foreach (var row in rows.Uris)
        {
            Insert(_insertUri, rid, n++, type, row.Parameter, row.Uri);
        }

        n = 0;
        foreach (var row in rows.Composites)
        {
            Insert(_insertComposite, rid, n++, type, row.Parameter, row.System1, row.Code1, row.System2, row.Code2, row.Low2, row.High2, row.Text2);
        }
    }

    /// <summary>Binds the key columns and then the table's own columns in the order of <see cref="PrepareInsert"/>.</summary>
    private void Insert(SqliteCommand command, long rid, int n, string type, string parameter, params object?[] values)
    {
        command.Transaction = Transaction;
        var parameters = command.Parameters;
        parameters[0].Value = rid;
        parameters[1].Value = n;
        parameters[2].Value = SearchKey(type, parameter);
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i + 3].Value = values[i] ?? DBNull.Value;
        }

        command.ExecuteNonQuery();
    }

    private SqliteCommand PrepareInsert(string table, params string[] columns)
    {
        var all = KeyColumns.Concat(columns).ToArray();
        return Prepare($"INSERT INTO {table} ({string.Join(", ", all)}) VALUES ({string.Join(", ", all.Select(c => "$" + c))})",
            all.Select(c => "$" + c).ToArray());
    }

    private SqliteCommand Prepare(string sql, params string[] parameters) => SqliteRows.Command(_connection, sql, parameters);

    private void Bind(SqliteCommand command, params (string Name, object Value)[] values)
    {
        command.Transaction = Transaction;
        foreach (var (name, value) in values)
        {
            command.Parameters[name].Value = value;
        }
    }
}
