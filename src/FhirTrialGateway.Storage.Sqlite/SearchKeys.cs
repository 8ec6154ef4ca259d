using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The small integer (pid) each index row carries in place of its resource type and search parameter (table
/// search_keys, migration 0013): short entries keep the lookup indexes' leaves full and their splits rare.
/// Readers turn the parameters a search names into pids here; the writer alone adds pairs.
/// </summary>
/// <remarks>
/// A pid enters this map when the writer first needs it, before its row in search_keys is committed, and it is never
/// given to another pair while the process runs, even if that commit fails (the writer then writes the row again with
/// the next commit that uses the pid). So every pid a reader's snapshot can hold is here, and a pid here whose row
/// is not committed yet matches no index row. After a restart the map is the table again.
/// </remarks>
internal sealed class SearchKeys
{
    /// <summary>Bound for a parameter that has no pid: no index row has it.</summary>
    public const long None = -1;

    private readonly ConcurrentDictionary<(string Type, string Parameter), long> _pids = new();
    private long _last;

    private SearchKeys()
    {
    }

    /// <summary>The pairs committed in the file.</summary>
    public static SearchKeys Load(SqliteConnection connection)
    {
        var keys = new SearchKeys();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT pid, resource_type, param FROM search_keys";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var pid = reader.GetInt64(0);
            keys._pids[(reader.GetString(1), reader.GetString(2))] = pid;
            keys._last = Math.Max(keys._last, pid);
        }

        return keys;
    }

    /// <summary>The pid of one parameter of one type, or <see cref="None"/>.</summary>
    public long Find(string resourceType, string parameter) => _pids.GetValueOrDefault((resourceType, parameter), None);

    /// <summary>Every pair with its pid, given so far.</summary>
    public IEnumerable<(string Type, string Parameter, long Pid)> Pairs => _pids.Select(pair => (pair.Key.Type, pair.Key.Parameter, pair.Value));

    /// <summary>The pids of a parameter of every type that has one (searches across types).</summary>
    public IEnumerable<long> FindForEveryType(string parameter) => Pairs.Where(pair => pair.Parameter == parameter).Select(pair => pair.Pid);

    /// <summary>The writer's lookup: the pair's pid, a new one if it has none yet.</summary>
    public long GetOrAdd(string resourceType, string parameter)
    {
        if (_pids.TryGetValue((resourceType, parameter), out var pid))
        {
            return pid;
        }

        // Only the writer thread adds, so the next number cannot be taken twice.
        pid = ++_last;
        _pids[(resourceType, parameter)] = pid;
        return pid;
    }
}
