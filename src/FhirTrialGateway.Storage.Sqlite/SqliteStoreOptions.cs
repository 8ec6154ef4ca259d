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
    /// WAL size, in pages, at which the writer checkpoints and the WAL starts over (SQLite's wal_autocheckpoint; 16,000
    /// pages of 4 KiB: a WAL of at most about 64 MiB). Larger means a page rewritten by many commits is copied into the
    /// database once per cycle rather than once per commit's worth of cycles: fewer bytes to the disk, more creates per
    /// second, longer (rarer) checkpoint pauses (decision 0001, eighth amendment).
    /// </summary>
    public int WalCheckpointPages { get; set; } = 16000;

    /// <summary>
    /// How often the background checkpointer copies the WAL into the database. Shorter leaves the writer's own
    /// checkpoint (which every queued write waits for) less to copy, so its pauses are shorter, but hot pages are
    /// copied more often. Throughput default; for latency, 2 ms with <see cref="WalCheckpointPages"/> 4,000 (create p99
    /// 8-9 ms instead of 21-26 ms at full load, about 20% fewer creates per second: docs/benchmarks.md, eighth session).
    /// </summary>
    public int CheckpointIntervalMilliseconds { get; set; } = 1000;

    /// <summary>How long a reader waits on a locked database before failing.</summary>
    public int BusyTimeoutSeconds { get; set; } = 30;
}
