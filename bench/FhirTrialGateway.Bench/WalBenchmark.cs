using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Bench;

/// <summary>
/// What a durable create writes: the WAL frames (one per page per commit) the core benchmark's creates add, by
/// B-tree. Most of the writer's time per create is spent writing, checksumming and later copying back these pages
/// (perf: pwrite alone is a quarter of the writer thread), so this count is the write path's cost in pages.
/// </summary>
/// <remarks>
/// The gateway runs with a WAL that is never checkpointed by the writer, and this process holds a read snapshot from
/// before the load: no checkpoint can copy past it, so the WAL cannot start over and keeps every frame of the load.
/// After the load the gateway is killed (SIGKILL leaves the WAL as written) and the frames after the snapshot are
/// read from the file. Pages are named by the sqlite3 shell's dbstat table (package sqlite3; totals only without it).
/// </remarks>
internal static class WalBenchmark
{
    public static async Task<int> RunAsync(int clients, TimeSpan duration)
    {
        Console.WriteLine($"# wal benchmark: {clients} clients, {duration.TotalSeconds:0} s of creates, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false",
            "Storage:Sqlite:WalCheckpointPages=1000000000", "Audit:IndexWhenCpuBelow=0"]);
        var creates = CreateReadLoad.Bodies.Select(body => ("POST", "/fhir/Observation", (byte[]?)body)).ToList();
        await WrkLoad.RunAsync("warm-up", gateway.BaseUri, clients, TimeSpan.FromSeconds(3), creates);

        var walPath = gateway.DatabasePath + "-wal";
        using var snapshot = new SqliteConnection($"Data Source={gateway.DatabasePath};Mode=ReadOnly;Pooling=False");
        snapshot.Open();
        using var transaction = snapshot.BeginTransaction();
        var observationsBefore = CountObservations(snapshot, transaction);
        var framesBefore = WalFrames(walPath).Count;

        var load = await WrkLoad.RunAsync("create", gateway.BaseUri, clients, duration, creates);
        gateway.Kill();
        var frames = WalFrames(walPath).Skip(framesBefore).ToList();
        transaction.Rollback();
        long observations;
        using (var after = new SqliteConnection($"Data Source={gateway.DatabasePath};Mode=ReadOnly;Pooling=False"))
        {
            after.Open();
            observations = CountObservations(after, null) - observationsBefore;
        }

        var commits = frames.Count(f => f.Commit);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{load.PerSecond:0} creates/s under the load; {observations} creates in {commits} commits ({(double)observations / commits:0.0} per commit)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"WAL frames: {frames.Count}, {(double)frames.Count / observations:0.0} per create, {(double)frames.Count / commits:0.0} per commit"));
        var names = PageNames(gateway.DatabasePath);
        if (names is null)
        {
            Console.WriteLine("(sqlite3 shell not found: apt-get install sqlite3 to see the frames by B-tree)");
            return 0;
        }

        Console.WriteLine();
        Console.WriteLine("| B-tree | frames | share | per commit | per create |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var group in frames.GroupBy(f => names.GetValueOrDefault(f.Page, "(free or new page)")).OrderByDescending(g => g.Count()))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key} | {group.Count()} | {(double)group.Count() / frames.Count:P1} | {(double)group.Count() / commits:0.00} | {(double)group.Count() / observations:0.00} |"));
        }

        return 0;
    }

    private static long CountObservations(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM resources WHERE resource_type = 'Observation'";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// The frames of the WAL's current generation up to its last commit (format: sqlite.org/fileformat.html, section
    /// "WAL file format"): a 32-byte header with the salts, then frames of a 24-byte header and one page.
    /// </summary>
    private static List<(uint Page, bool Commit)> WalFrames(string walPath)
    {
        using var file = new FileStream(walPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[32];
        file.ReadExactly(header);
        var pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
        var salts = header.AsSpan(16, 8).ToArray();
        var frames = new List<(uint, bool)>();
        var committed = 0;
        var frameHeader = new byte[24];
        while (file.Read(frameHeader) == 24 && frameHeader.AsSpan(8, 8).SequenceEqual(salts))
        {
            var commit = BinaryPrimitives.ReadUInt32BigEndian(frameHeader.AsSpan(4)) != 0;
            frames.Add((BinaryPrimitives.ReadUInt32BigEndian(frameHeader), commit));
            committed = commit ? frames.Count : committed;
            file.Seek(pageSize, SeekOrigin.Current);
        }

        return frames[..committed];
    }

    /// <summary>Page number to table or index name, from the sqlite3 shell's dbstat virtual table; null without the shell.</summary>
    private static Dictionary<uint, string>? PageNames(string databasePath)
    {
        try
        {
            var start = new ProcessStartInfo("sqlite3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in new[] { "-readonly", "-separator", "|", databasePath, "SELECT pageno, name FROM dbstat" })
            {
                start.ArgumentList.Add(argument);
            }

            using var shell = Process.Start(start)!;
            var names = new Dictionary<uint, string>();
            while (shell.StandardOutput.ReadLine() is { } line)
            {
                var split = line.IndexOf('|', StringComparison.Ordinal);
                names[uint.Parse(line[..split], CultureInfo.InvariantCulture)] = line[(split + 1)..];
            }

            shell.WaitForExit();
            return shell.ExitCode == 0 ? names : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
