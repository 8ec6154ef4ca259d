using System.Diagnostics;
using System.Threading.Channels;
using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The single writer of the SQLite file. Units of work queue up; the writer thread takes every waiting unit, and
/// for a short while also those that arrive while the group runs (up to a limit), runs each inside its own savepoint
/// of one transaction and commits once. Callers are answered only after the <see cref="WalSyncer"/> has flushed that
/// commit to disk, so an acknowledged write is durable, and one fsync is shared by every group committed while the
/// previous one ran. A unit that throws is rolled back to its savepoint alone; its batchmates still commit. Because
/// there is one writer, a unit's checks and writes cannot interleave with another's.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly Channel<WriteUnit> _queue = Channel.CreateUnbounded<WriteUnit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WorkSignal _work = new();
    private readonly SqliteConnection _connection;
    private readonly SqliteWriteSession _session;
    private readonly WalSyncer _syncer;
    private readonly int _maxPerCommit;
    private readonly long _openForTicks;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private readonly SqliteCommand _savepoint;
    private readonly SqliteCommand _release;
    private readonly SqliteCommand _rollbackToSavepoint;
    private long _writes;
    private long _commits;

    public GroupCommitWriter(SqliteConnection connection, SearchKeys searchKeys, WalSyncer syncer, SqliteStoreOptions options, ILogger logger)
    {
        _connection = connection;
        _syncer = syncer;
        _session = new SqliteWriteSession(connection, searchKeys);
        _maxPerCommit = Math.Max(1, options.MaxWritesPerCommit);
        _openForTicks = Math.Max(0, options.GroupOpenMilliseconds) * Stopwatch.Frequency / 1000;
        _logger = logger;
        _savepoint = Command("SAVEPOINT unit");
        _release = Command("RELEASE unit");
        _rollbackToSavepoint = Command("ROLLBACK TO unit");
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public Task<T> EnqueueAsync<T>(Func<IWriteSession, T> work, CancellationToken cancellationToken)
    {
        var unit = new WriteUnit<T>(work, cancellationToken);
        if (!_queue.Writer.TryWrite(unit))
        {
            throw new ObjectDisposedException(nameof(GroupCommitWriter), "The store is shutting down and takes no more writes.");
        }

        _work.Set();

        return unit.Task;
    }

    /// <summary>Writes committed and commits made so far (each read atomically, the pair not: for statistics).</summary>
    public (long Writes, long Commits) Counts => (Interlocked.Read(ref _writes), Interlocked.Read(ref _commits));

    /// <summary>Stops taking writes, finishes every queued one, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _work.Set();
        await _loop;
        _logger.LogInformation("The writer committed {WriteCount} writes in {CommitCount} commits", _writes, _commits);
        _syncer.Dispose();
        _work.Dispose();
        _session.Dispose();
        _savepoint.Dispose();
        _release.Dispose();
        _rollbackToSavepoint.Dispose();
        await _connection.DisposeAsync();
    }

    private void Run()
    {
        var batch = new List<WriteUnit>(_maxPerCommit);
        var committed = new List<WriteUnit>(_maxPerCommit);
        while (_work.WaitFor(_queue.Reader))
        {
            batch.Clear();
            CommitGroup(batch, committed);
        }
    }

    /// <summary>
    /// Takes the next unit of the group: every unit queued when the group started, then those that arrive while it
    /// runs, until it has run for <see cref="SqliteStoreOptions.GroupOpenMilliseconds"/>. Every commit rewrites the same hot pages (the
    /// ends of the append-only B-trees and of each busy index range) once, so a larger group writes fewer pages per
    /// write; taking late arrivals costs no idle time, unlike waiting for them (tried, decision 0001).
    /// </summary>
    private bool TryTakeUnit(List<WriteUnit> batch, int taken, long startedAt, out WriteUnit unit)
    {
        if (taken < batch.Count)
        {
            unit = batch[taken];
            return true;
        }

        if (Stopwatch.GetTimestamp() - startedAt < _openForTicks && batch.Count < _maxPerCommit && _queue.Reader.TryRead(out var next))
        {
            batch.Add(next);
            unit = next;
            return true;
        }

        unit = null!;
        return false;
    }

    private void CommitGroup(List<WriteUnit> batch, List<WriteUnit> committed)
    {
        committed.Clear();
        var startedAt = Stopwatch.GetTimestamp();
        while (batch.Count < _maxPerCommit && _queue.Reader.TryRead(out var queued))
        {
            batch.Add(queued);
        }

        if (_syncer.Broken is { } broken)
        {
            batch.ForEach(unit => unit.Fail(broken));
            return;
        }

        SqliteTransaction? transaction = null;
        try
        {
            transaction = _connection.BeginTransaction(deferred: false);
            _session.Transaction = transaction;
            for (var taken = 0; TryTakeUnit(batch, taken, startedAt, out var unit); taken++)
            {
                if (unit.CancellationToken.IsCancellationRequested)
                {
                    unit.Cancel();
                    continue;
                }

                Execute(_savepoint, transaction);
                _session.BeginUnit();
                try
                {
                    unit.Run(_session);
                    Execute(_release, transaction);
                    _session.EndUnit(kept: true);
                    committed.Add(unit);
                }
                catch (Exception ex) when (ex is not SqliteException { SqliteErrorCode: 13 or 10 })
                {
                    // The unit's own failure (a FHIR precondition, a constraint): undo it alone.
                    Execute(_rollbackToSavepoint, transaction);
                    Execute(_release, transaction);
                    _session.EndUnit(kept: false);
                    unit.Fail(ex);
                }
            }

            _session.BeforeCommit();
            transaction.Commit();
            _session.AfterCommit();
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _writes, committed.Count);
            if (committed.Count > 0)
            {
                _syncer.AfterNextSync(committed.Select(unit => (Action<Exception?>)unit.Settle).ToArray());
            }
        }
        catch (Exception ex)
        {
            // Disk full, I/O error, or a failed commit: nothing of this batch is stored, so nobody is told otherwise.
            _logger.LogError(ex, "A group commit of {UnitCount} writes failed; all were rolled back", batch.Count);
            try
            {
                transaction?.Rollback();
            }
            catch (Exception rollbackError)
            {
                _logger.LogError(rollbackError, "Rollback after a failed group commit also failed");
            }

            try
            {
                _session.ReadSearchKeysInFile();
            }
            catch (Exception readError)
            {
                // The pids this group gave are still not counted as in the file: the next commit that uses them writes them.
                _logger.LogError(readError, "Reading the search keys after a failed group commit failed");
            }

            var failure = new StoreUnavailableException("The write could not be committed; nothing was stored.", ex);
            foreach (var unit in batch)
            {
                unit.Fail(failure);
            }
        }
        finally
        {
            _session.DiscardHeldIndexRows();
            _session.Transaction = null;
            transaction?.Dispose();
        }
    }

    private static void Execute(SqliteCommand command, SqliteTransaction transaction)
    {
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    /// <summary>Savepoint statements are prepared once and reused: they run twice for every write.</summary>
    private SqliteCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private abstract class WriteUnit(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;

        public abstract void Run(IWriteSession session);

        public abstract void Complete();

        public abstract void Fail(Exception error);

        public abstract void Cancel();

        /// <summary>Answers the caller once the commit is on disk (or could not be made durable).</summary>
        public void Settle(Exception? syncFailure)
        {
            if (syncFailure is null)
            {
                Complete();
            }
            else
            {
                Fail(syncFailure);
            }
        }
    }

    private sealed class WriteUnit<T>(Func<IWriteSession, T> work, CancellationToken cancellationToken) : WriteUnit(cancellationToken)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;

        public override void Run(IWriteSession session) => _result = work(session);

        public override void Complete() => _completion.TrySetResult(_result!);

        public override void Fail(Exception error) => _completion.TrySetException(error);

        public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
    }
}
