namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>Configuration section "Storage:Sqlite".</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; created with its folder on first start.</summary>
    public string Path { get; set; } = "./data/gateway.db";

    /// <summary>At most this many writes share one commit (group commit).</summary>
    public int MaxWritesPerCommit { get; set; } = 256;

    /// <summary>How long a reader waits on a locked database before failing.</summary>
    public int BusyTimeoutSeconds { get; set; } = 30;
}
