using System.Threading.Channels;
using FhirTrialGateway.Core.Storage;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Makes committed groups durable off the writer thread. The writer commits with synchronous=NORMAL (the WAL frames
/// are written, not flushed) and hands the group here; this thread flushes the WAL file to disk and only then
/// answers the group's callers. While one fsync runs, the writer already executes and commits the next groups, and
/// the next fsync covers every group committed meanwhile: the disk wait no longer stalls the writer (measured: the
/// commit's fsync took 70% of the writer thread's time with synchronous=FULL).
/// </summary>
/// <remarks>
/// An acknowledged write is on disk, exactly as with synchronous=FULL: fsync on the WAL file flushes every frame
/// written before it, and SQLite's recovery keeps the committed prefix of the WAL. The trade-off: for the duration of
/// one fsync (about a millisecond), other readers can already see a group that is not yet on disk; if the machine
/// loses power in that window, those writes disappear, but their writers were never told they succeeded. A crash of
/// the process alone loses nothing (the frames are in the operating system's cache).
/// </remarks>
internal sealed class WalSyncer : IDisposable
{
    private readonly Channel<Action<Exception?>[]> _pending = Channel.CreateUnbounded<Action<Exception?>[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WorkSignal _work = new();
    private readonly FileStream _wal;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private volatile Exception? _broken;

    public WalSyncer(string databasePath, ILogger logger)
    {
        // Opened for writing only because .NET flushes to disk (fsync) only through a writable stream; nothing is
        // ever written through it. SQLite keeps the -wal file (same inode) for as long as its writer connection is open.
        _wal = new FileStream(databasePath + "-wal", FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-wal-sync" };
        _thread.Start();
    }

    /// <summary>Set once an fsync failed: what was written since may not be on disk, so the store takes no more writes.</summary>
    public Exception? Broken => _broken;

    /// <summary>Queues the completions of a committed group; each is called after the fsync that covers it.</summary>
    public void AfterNextSync(Action<Exception?>[] completions)
    {
        if (!_pending.Writer.TryWrite(completions))
        {
            throw new InvalidOperationException("The WAL syncer has stopped.");
        }

        _work.Set();
    }

    /// <summary>Flushes and answers every queued group, then stops.</summary>
    public void Dispose()
    {
        _pending.Writer.TryComplete();
        _work.Set();
        _thread.Join();
        _wal.Dispose();
        _work.Dispose();
    }

    private void Run()
    {
        var groups = new List<Action<Exception?>[]>();
        while (_work.WaitFor(_pending.Reader))
        {
            groups.Clear();
            while (_pending.Reader.TryRead(out var group))
            {
                groups.Add(group);
            }

            var failure = Sync();
            foreach (var completion in groups.SelectMany(g => g))
            {
                completion(failure);
            }
        }
    }

    private Exception? Sync()
    {
        if (_broken is not null)
        {
            return _broken;
        }

        try
        {
            _wal.Flush(flushToDisk: true);
            return null;
        }
        catch (IOException ex)
        {
            // After a failed fsync the kernel may have dropped the dirty pages: retrying could report success for
            // data that is gone ("fsyncgate"). Refuse every further write instead and say so loudly.
            _logger.LogCritical(ex, "fsync of the SQLite WAL failed; the store refuses further writes until restarted");
            _broken = new StoreUnavailableException("The write could not be made durable; the store refuses writes until it is restarted.", ex);
            return _broken;
        }
    }
}
