using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Copies the WAL back into the database file on its own connection and thread. SQLite's automatic checkpoint runs
/// inside the writer's commit, copying and flushing the database file while every queued write waits; a passive
/// checkpoint here runs beside the writer (WAL mode allows it) and never blocks it. It cannot let the WAL restart
/// under continuous writes (the writer appends while it copies), so the writer keeps SQLite's automatic checkpoint at
/// a larger size (<see cref="SqliteStoreOptions.WalCheckpointPages"/>), which copies what is left and lets the WAL
/// start over. How much is left depends on <see cref="SqliteStoreOptions.CheckpointIntervalMilliseconds"/>: at full
/// create load the writer still copies most pages itself (measured with 4,000 pages and 200 ms: about 20 checkpoints
/// a second of about 12 ms each, a quarter of the writer's time and the create p99).
/// </summary>
internal sealed class WalCheckpointer : IDisposable
{
    /// <summary>Frames still waiting after a checkpoint that are worth a warning (about 400 MB with 4 KiB pages).</summary>
    private const long LaggingFrames = 100_000;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _checkpoint;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public WalCheckpointer(string connectionString, TimeSpan interval, ILogger logger)
    {
        _interval = interval;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _checkpoint = _connection.CreateCommand();
        _checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-wal-checkpoint" };
        _thread.Start();
    }

    /// <summary>Stops after a last checkpoint.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _checkpoint.Dispose();
        _connection.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        do
        {
            try
            {
                using var reader = _checkpoint.ExecuteReader();
                reader.Read();
                var framesInWal = reader.GetInt64(1);
                var framesCopied = reader.GetInt64(2);
                if (framesInWal - framesCopied > LaggingFrames)
                {
                    _logger.LogWarning("WAL checkpoint lags: {FramesBehind} frames not yet copied (long-running readers hold them)",
                        framesInWal - framesCopied);
                }
            }
            catch (SqliteException ex)
            {
                // A busy or failing checkpoint loses nothing (the WAL keeps the data); the next round tries again.
                _logger.LogWarning(ex, "WAL checkpoint failed; retrying in {CheckpointIntervalMs} ms", _interval.TotalMilliseconds);
            }
        }
        while (!_stop.Token.WaitHandle.WaitOne(_interval));
    }
}
