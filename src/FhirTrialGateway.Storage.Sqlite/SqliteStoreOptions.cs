namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>Configuration section "Storage:Sqlite".</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; created with its folder on first start.</summary>
    public string Path { get; set; } = "./data/gateway.db";

    /// <summary>At most this many writes share one commit (group commit).</summary>
    public int MaxWritesPerCommit { get; set; } = 256;

    /// <summary>
    /// For this long after a group starts, writes that arrive while it runs join it instead of waiting for the next
    /// commit (0: a group is what was queued when it started). Bounds how much later the group's first write is answered.
    /// </summary>
    public int GroupOpenMilliseconds { get; set; } = 2;

    /// <summary>
    /// WAL size, in pages, at which the writer checkpoints and the WAL starts over (SQLite's wal_autocheckpoint).
    /// A background checkpointer copies pages earlier, so this mostly bounds the WAL file's size.
    /// </summary>
    public int WalCheckpointPages { get; set; } = 4000;

    /// <summary>
    /// How often the background checkpointer copies the WAL into the database. Shorter leaves the writer's own
    /// checkpoint (which every queued write waits for) less to copy: at 2 ms the create p99 about halves, for about 5%
    /// fewer creates per second at full load (hot pages are copied more often; docs/benchmarks.md, seventh session).
    /// </summary>
    public int CheckpointIntervalMilliseconds { get; set; } = 200;

    /// <summary>How long a reader waits on a locked database before failing.</summary>
    public int BusyTimeoutSeconds { get; set; } = 30;
}
