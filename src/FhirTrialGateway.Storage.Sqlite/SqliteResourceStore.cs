using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Reads use pooled connections and run in parallel with the
/// writer; writes go through the <see cref="GroupCommitWriter"/>, and a write is acknowledged only after the
/// <see cref="WalSyncer"/> has flushed it to disk, so it survives a crash or power loss.
/// </summary>
public sealed class SqliteResourceStore : IResourceStore, IAsyncDisposable
{
    private readonly string _readConnectionString;
    private readonly GroupCommitWriter _writer;
    private readonly WalCheckpointer _checkpointer;
    private readonly PreparedReads _reads;
    private readonly SearchKeys _searchKeys;
    private readonly FileStream _oneProcess;

    private SqliteResourceStore(string readConnectionString, FileStream oneProcess, SearchKeys searchKeys, GroupCommitWriter writer,
        WalCheckpointer checkpointer)
    {
        _readConnectionString = readConnectionString;
        _oneProcess = oneProcess;
        _searchKeys = searchKeys;
        _reads = new PreparedReads(readConnectionString);
        _writer = writer;
        _checkpointer = checkpointer;
    }

    /// <summary>Creates the file and folder if needed, migrates the schema and starts the writer.</summary>
    public static SqliteResourceStore Open(SqliteStoreOptions options, ILogger logger)
    {
        var path = Path.GetFullPath(options.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var oneProcess = HoldTheFile(path);
        try
        {
            return Open(options, path, oneProcess, logger);
        }
        catch
        {
            oneProcess.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The writer numbers versions and search keys in memory, so two stores writing one file would give the same
    /// numbers twice: a lock on "file.lock" (an exclusive lock the OS drops when the process ends, even on SIGKILL)
    /// refuses the second store at start.
    /// </summary>
    private static FileStream HoldTheFile(string path)
    {
        try
        {
            return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"The database {path} is open in another gateway process (or store); one process serves one database file.", ex);
        }
    }

    private static SqliteResourceStore Open(SqliteStoreOptions options, string path, FileStream oneProcess, ILogger logger)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = options.BusyTimeoutSeconds,
        };

        var writeConnection = new SqliteConnection(builder.ToString());
        writeConnection.Open();
        Pragma(writeConnection, "PRAGMA journal_mode = WAL");
        // NORMAL: SQLite writes the WAL at commit without flushing it; the WalSyncer flushes it before any caller is
        // answered (the same durability as FULL, without the writer waiting for the disk).
        Pragma(writeConnection, "PRAGMA synchronous = NORMAL");
        // Every write unit runs in a savepoint, and SQLite copies each page a savepoint modifies into a statement
        // sub-journal, a temporary file by default: in memory it halves the writer's time per create (measured with
        // the micro benchmark: 249-281 us per Observation unit before, 133-147 us after).
        Pragma(writeConnection, "PRAGMA temp_store = MEMORY");
        Pragma(writeConnection, $"PRAGMA busy_timeout = {options.BusyTimeoutSeconds * 1000}");
        // The WalCheckpointer copies the WAL into the database beside the writer; the writer's own checkpoint (SQLite's
        // automatic one, at this many WAL pages) then has little left to copy and lets the WAL restart from its beginning.
        Pragma(writeConnection, $"PRAGMA wal_autocheckpoint = {options.WalCheckpointPages}");
        SqliteSchema.Migrate(builder.ToString(), logger);

        logger.LogInformation("SQLite store open at {DatabasePath} (WAL, every acknowledged write flushed to disk)", path);
        var checkpointer = new WalCheckpointer(builder.ToString(), TimeSpan.FromMilliseconds(Math.Max(1, options.CheckpointIntervalMilliseconds)), logger);
        builder.Mode = SqliteOpenMode.ReadOnly;
        var searchKeys = SearchKeys.Load(writeConnection);
        var writer = new GroupCommitWriter(writeConnection, searchKeys, new WalSyncer(path, logger), options, logger);
        return new SqliteResourceStore(builder.ToString(), oneProcess, searchKeys, writer, checkpointer);
    }

    /// <summary>The pids readers and the writer use (tests look at them).</summary>
    internal SearchKeys SearchKeys => _searchKeys;

    /// <summary>Writes committed and commits made since the store opened (how many writes a commit carries on average).</summary>
    internal (long Writes, long Commits) WriterCounts => _writer.Counts;

    public Task<StoredResource?> ReadCurrentAsync(string resourceType, string id, CancellationToken cancellationToken) =>
        Task.FromResult(_reads.ReadCurrent(resourceType, id));

    public Task<StoredResource?> ReadVersionAsync(string resourceType, string id, int version, CancellationToken cancellationToken) =>
        Task.FromResult(_reads.ReadVersion(resourceType, id, version));

    public Task<HistoryPage> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        using var connection = OpenRead();
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.ResourceType is not null && query.Id is not null)
        {
            where.Add("v.rid = (SELECT rid FROM resources WHERE resource_type = $type AND id = $id)");
            command.Parameters.AddWithValue("$type", query.ResourceType);
            command.Parameters.AddWithValue("$id", query.Id);
        }
        else if (query.ResourceType is not null)
        {
            where.Add("v.resource_type = $type");
            command.Parameters.AddWithValue("$type", query.ResourceType);
        }

        if (query.Site is not null)
        {
            where.Add("v.site = $site");
            command.Parameters.AddWithValue("$site", query.Site);
        }

        if (query.Since is { } since)
        {
            where.Add("v.last_updated >= $since");
            command.Parameters.AddWithValue("$since", SqliteRows.ToUnixMilliseconds(since));
        }

        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        long? total = null;
        if (query.Id is not null)
        {
            command.CommandText = "SELECT COUNT(*) FROM resource_versions v" + filter;
            total = (long)command.ExecuteScalar()!;
        }

        if (query.BeforeSequence is { } before)
        {
            filter += (filter.Length == 0 ? " WHERE " : " AND ") + "v.seq < $before";
            command.Parameters.AddWithValue("$before", before);
        }

        command.CommandText = $"SELECT {SearchSql.VersionColumns} FROM resource_versions v{filter} ORDER BY v.seq DESC LIMIT {query.Count + 1}";
        var versions = ReadAll(command);
        long? next = null;
        if (versions.Count > query.Count)
        {
            versions.RemoveAt(versions.Count - 1);
            next = versions[^1].Sequence;
        }

        return Task.FromResult(new HistoryPage(versions, next, total));
    }

    public Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        using var connection = OpenRead();
        using var transaction = connection.BeginTransaction(deferred: true); // count, page and includes see one snapshot
        // Read before any SQL is built: the read starts the snapshot, and only then may the query take its pids from
        // SearchKeys, so that every pid of a row in the snapshot is known (a later page brings its snapshot key along).
        var newest = MaxResourceKey(connection, transaction);
        var snapshot = query.SnapshotKey ?? newest;
        var bounded = query with { SnapshotKey = snapshot };

        long? total = null;
        if (query.Total == TotalMode.Accurate || (query.Total == TotalMode.FirstPage && query.Cursor is null))
        {
            using var count = connection.CreateCommand();
            count.Transaction = transaction;
            SearchSql.BuildCount(count, bounded, _searchKeys);
            total = (long)count.ExecuteScalar()!;
        }

        if (query.Count == 0)
        {
            return Task.FromResult(new SearchPage([], total, null, null, snapshot));
        }

        var rows = ReadPage(connection, transaction, bounded, _searchKeys);
        var backward = query.Cursor?.Backward == true;
        var more = rows.Count > query.Count;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        if (backward)
        {
            rows.Reverse();
        }

        PageCursor? next = null;
        PageCursor? previous = null;
        if (rows.Count > 0)
        {
            next = more || backward ? new PageCursor(false, rows[^1].Key, rows[^1].SortValues) : null;
            previous = (backward ? more : query.Cursor is not null) ? new PageCursor(true, rows[0].Key, rows[0].SortValues) : null;
        }

        var matches = rows.Select(r => r.Resource).ToList();
        var page = new SearchPage(matches, total, next, previous, snapshot);
        if (query.Includes.Count > 0 && rows.Count > 0)
        {
            var (included, truncated) = SearchIncludes.Run(connection, transaction, _searchKeys, query.Includes,
                rows.Select(r => new SearchIncludes.Keyed(r.Key, r.Resource)).ToList());
            page = page with { Included = included, IncludesTruncated = truncated };
        }

        return Task.FromResult(page);
    }

    private static List<(long Key, StoredResource Resource, object?[] SortValues)> ReadPage(SqliteConnection connection,
        SqliteTransaction transaction, SearchQuery query, SearchKeys searchKeys)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        SearchSql.BuildPage(command, query, searchKeys);
        var rows = new List<(long, StoredResource, object?[])>(query.Count + 1);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var sortValues = new object?[query.Sort.Count];
            for (var i = 0; i < sortValues.Length; i++)
            {
                var column = 1 + SearchSql.VersionColumnCount + i;
                sortValues[i] = reader.IsDBNull(column) ? null : reader.GetValue(column);
            }

            rows.Add((reader.GetInt64(0), SqliteRows.ReadVersion(reader, 1), sortValues));
        }

        return rows;
    }

    public Task<T> WriteAsync<T>(Func<IWriteSession, T> work, CancellationToken cancellationToken) =>
        _writer.EnqueueAsync(work, cancellationToken);

    public Task<AuditIndexBacklog> ReadAuditIndexBacklogAsync(int limit, CancellationToken cancellationToken)
    {
        using var connection = OpenRead();
        // One snapshot for the mark and the links after it.
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT indexed_through, (SELECT COALESCE(MAX(link), 0) FROM audit_chain) FROM audit_index_mark WHERE id = 1";
        long indexedThrough, lastLink;
        using (var mark = command.ExecuteReader())
        {
            mark.Read();
            indexedThrough = mark.GetInt64(0);
            lastLink = mark.GetInt64(1);
        }

        command.CommandText = "SELECT c.link, v.rid, v.body FROM audit_chain c JOIN resource_versions v ON v.seq = c.version_seq " +
                              "WHERE c.link > $after ORDER BY c.link LIMIT $limit";
        command.Parameters.AddWithValue("$after", indexedThrough);
        command.Parameters.AddWithValue("$limit", limit);
        var next = new List<UnindexedAudit>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                next.Add(new UnindexedAudit(reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2)));
            }
        }

        return Task.FromResult(new AuditIndexBacklog(indexedThrough, lastLink, next));
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        _checkpointer.Dispose();
        _reads.Dispose();
        await _oneProcess.DisposeAsync();
    }

    private static long MaxResourceKey(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COALESCE(MAX(rid), 0) FROM resources";
        return (long)command.ExecuteScalar()!;
    }

    private static List<StoredResource> ReadAll(SqliteCommand command)
    {
        var result = new List<StoredResource>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add(SqliteRows.ReadVersion(reader));
        }

        return result;
    }

    private static void Pragma(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteConnection OpenRead()
    {
        var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return connection;
    }
}
