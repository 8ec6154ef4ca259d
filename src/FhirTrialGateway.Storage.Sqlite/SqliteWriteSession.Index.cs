using FhirTrialGateway.Core.Storage;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Search index rows are held back while a group's units run and written once, just before the group commits, outside
/// every unit's savepoint. Why: SQLite copies each page a savepoint changes into the statement sub-journal, and an
/// Observation's twenty-odd index rows touch pages in three B-trees per row; written inside the unit, each create paid
/// for those copies (perf: memmove and sub-journal work on the writer thread). Anything in the session that reads the
/// index (<see cref="FindIds"/>) writes the held rows first, so a unit always sees every version written before it.
/// A unit that is rolled back takes its held rows with it, and gets back any earlier rows it wrote into its savepoint.
/// </summary>
internal sealed partial class SqliteWriteSession
{
    /// <summary>Held rows by resource key: only the newest version of a resource in the group counts.</summary>
    private readonly Dictionary<long, HeldRows> _heldIndexRows = [];

    /// <summary>What the running unit changed in <see cref="_heldIndexRows"/>, to undo it if the unit is rolled back.</summary>
    private readonly List<(long Rid, HeldRows? Before)> _unitUndo = [];

    private bool _inUnit;

    /// <param name="ReplacesRows">Rows of an earlier version may be in the tables and must go first.</param>
    private sealed record HeldRows(string Type, SearchIndexRows Rows, bool ReplacesRows);

    public void BeginUnit()
    {
        _unitUndo.Clear();
        _inUnit = true;
    }

    /// <summary>The unit's savepoint was released (<paramref name="kept"/>) or rolled back.</summary>
    public void EndUnit(bool kept)
    {
        if (!kept)
        {
            for (var i = _unitUndo.Count - 1; i >= 0; i--)
            {
                var (rid, before) = _unitUndo[i];
                if (before is null)
                {
                    _heldIndexRows.Remove(rid);
                }
                else
                {
                    _heldIndexRows[rid] = before;
                }
            }
        }

        _unitUndo.Clear();
        _inUnit = false;
    }

    /// <summary>Writes every held row (before the commit, or before a query of the index inside a unit).</summary>
    private void WriteHeldIndexRows()
    {
        foreach (var (rid, held) in _heldIndexRows)
        {
            if (held.ReplacesRows)
            {
                foreach (var delete in _deleteIndexRows)
                {
                    Bind(delete, ("$rid", rid));
                    delete.ExecuteNonQuery();
                }
            }

            WriteIndexRows(rid, held.Type, held.Rows);
            if (_inUnit)
            {
                // Written inside the unit's savepoint: if the unit is rolled back, so are these rows, and they are held again.
                _unitUndo.Add((rid, held));
            }
        }

        _heldIndexRows.Clear();
    }

    /// <summary>
    /// Last step before the group commits: its held index rows, then the search_keys rows of the pids the group gave or
    /// used while they were not yet in the file (also those of rows a rolled-back unit took back: harmless). Written
    /// here, outside every unit's savepoint, a pid's row cannot be rolled back with one unit while other units' rows
    /// that use it commit.
    /// </summary>
    public void BeforeCommit()
    {
        WriteHeldIndexRows();
        foreach (var (pid, (type, parameter)) in _searchKeysToWrite)
        {
            Bind(_insertSearchKey, ("$pid", pid), ("$type", type), ("$param", parameter));
            _insertSearchKey.ExecuteNonQuery();
        }
    }

    /// <summary>The group committed: the pids written with it are in the file.</summary>
    public void AfterCommit()
    {
        _searchKeysInFile.UnionWith(_searchKeysToWrite.Keys);
        _searchKeysToWrite.Clear();
    }

    /// <summary>
    /// After the group's commit or rollback: nothing of it is held any more, neither index rows nor search_keys rows
    /// waiting to be written (after a rollback, the next commit that uses those pids writes them).
    /// </summary>
    public void DiscardHeldIndexRows()
    {
        _heldIndexRows.Clear();
        _unitUndo.Clear();
        _inUnit = false;
        _searchKeysToWrite.Clear();
    }

    /// <summary>
    /// Reads which pids the file holds: when the session starts, and after a group that did not commit, rather than
    /// assuming none of its pids got there (a commit that reported failure yet reached the file would otherwise have its
    /// pids written a second time, and every later group that uses them would fail on the duplicate).
    /// </summary>
    public void ReadSearchKeysInFile()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT pid FROM search_keys";
        using var reader = command.ExecuteReader();
        _searchKeysInFile.Clear();
        while (reader.Read())
        {
            _searchKeysInFile.Add(reader.GetInt64(0));
        }
    }

    /// <summary>The pid of an index row's type and parameter; one new to the file is written before the commit.</summary>
    private long SearchKey(string type, string parameter)
    {
        var pid = _searchKeys.GetOrAdd(type, parameter);
        if (!_searchKeysInFile.Contains(pid))
        {
            _searchKeysToWrite.TryAdd(pid, (type, parameter));
        }

        return pid;
    }

    private void HoldIndexRows(long rid, string type, SearchIndexRows rows, bool replacesRows)
    {
        if (rows.Count == 0 && !replacesRows)
        {
            return;
        }

        _heldIndexRows.TryGetValue(rid, out var before);
        if (_inUnit)
        {
            _unitUndo.Add((rid, before));
        }

        _heldIndexRows[rid] = new HeldRows(type, rows, replacesRows || (before?.ReplacesRows ?? false));
    }
}
