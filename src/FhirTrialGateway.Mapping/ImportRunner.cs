using System.Collections.Concurrent;
using System.Diagnostics;
using FhirTrialGateway.Mapping.Output;

namespace FhirTrialGateway.Mapping;

/// <summary>The counts an import reports at the end.</summary>
public sealed class ImportSummary
{
    public int Subjects { get; internal set; }

    public int Sent { get; internal set; }

    public int Created { get; internal set; }

    public int Updated { get; internal set; }

    public int Unchanged { get; internal set; }

    /// <summary>Resources written to a folder or stdout (the gateway's created/updated/unchanged are unknown there).</summary>
    public int Written { get; internal set; }

    public int ResourcesRejected { get; internal set; }

    public List<string> RejectedSubjects { get; } = [];

    public List<ImportIssue> Issues { get; } = [];

    public TimeSpan Elapsed { get; internal set; }

    public bool HasErrors => Issues.Any(i => i.IsError);

    public override string ToString() =>
        $"subjects {Subjects}, sent {Sent}, rejected {RejectedSubjects.Count}; resources created {Created}, updated {Updated}, unchanged {Unchanged}, " +
        $"written {Written}, rejected {ResourcesRejected}; {Elapsed.TotalSeconds:F1} s";
}

/// <summary>
/// Runs an import: maps and validates every unit (a subject, or a study), and sends the valid bundles to a sink.
/// By default nothing is sent when any unit has an error (a first pass validates everything, a second sends);
/// with skipInvalid the valid units are sent in one pass and the invalid ones listed. Units are processed in
/// parallel as they are read, so memory does not grow with the input.
/// </summary>
public sealed class ImportRunner(ResourceChecker checker, IBundleSink sink, bool skipInvalid, TextWriter? progress = null)
{
    /// <param name="read">Reads the input from the start each time it is called (the default mode reads twice).</param>
    /// <param name="map">Maps one unit; called concurrently.</param>
    public async Task<ImportSummary> RunAsync<T>(Func<IEnumerable<T>> read, Func<T, MappedBundle> map, string? file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var clock = Stopwatch.StartNew();
        var summary = new ImportSummary();
        var invalid = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var issues = new ConcurrentQueue<ImportIssue>();
        var total = 0;
        if (!skipInvalid)
        {
            // Pass 1: validate everything, send nothing.
            await ForEach(read(), unit =>
            {
                var mapped = checker.Check(map(unit), file);
                Interlocked.Increment(ref total);
                Report(mapped, issues);
                if (mapped.HasErrors)
                {
                    invalid.TryAdd(mapped.Key, 0);
                    lock (summary)
                    {
                        summary.ResourcesRejected += mapped.Resources.Count;
                    }
                }

                return Task.CompletedTask;
            }, "validating", () => total, Environment.ProcessorCount, 0, cancellationToken);
            summary.Subjects = total;
            Finish(summary, invalid, issues);
            if (!invalid.IsEmpty)
            {
                summary.Elapsed = clock.Elapsed;
                return summary;
            }
        }

        var count = 0;
        await ForEach(read(), async unit =>
        {
            var mapped = map(unit);
            if (skipInvalid)
            {
                mapped = checker.Check(mapped, file);
                Report(mapped, issues);
                if (mapped.HasErrors)
                {
                    invalid.TryAdd(mapped.Key, 0);
                    lock (summary)
                    {
                        summary.ResourcesRejected += mapped.Resources.Count;
                    }

                    Interlocked.Increment(ref count);
                    return;
                }
            }

            var result = await sink.SendAsync(mapped.Key, mapped.ToTransaction(), cancellationToken);
            Interlocked.Increment(ref count);
            lock (summary)
            {
                if (result.Refused is not null)
                {
                    invalid.TryAdd(mapped.Key, 0);
                    issues.Enqueue(new ImportIssue(true, result.Refused, file, null, null, mapped.Key));
                    summary.ResourcesRejected += mapped.Resources.Count;
                    return;
                }

                summary.Sent++;
                summary.Created += result.Created;
                summary.Updated += result.Updated;
                summary.Unchanged += result.Unchanged;
                summary.Written += result.Created + result.Updated + result.Unchanged == 0 ? result.Written : 0;
            }
        }, "sending", () => count, Environment.ProcessorCount * 2, total, cancellationToken);

        summary.Subjects = count;
        summary.Issues.Clear();
        Finish(summary, invalid, issues);
        summary.Elapsed = clock.Elapsed;
        return summary;
    }

    private static void Report(MappedBundle mapped, ConcurrentQueue<ImportIssue> issues)
    {
        foreach (var issue in mapped.Issues)
        {
            issues.Enqueue(issue);
        }
    }

    private static void Finish(ImportSummary summary, ConcurrentDictionary<string, byte> invalid, ConcurrentQueue<ImportIssue> issues)
    {
        summary.RejectedSubjects.Clear();
        summary.RejectedSubjects.AddRange(invalid.Keys.Order(StringComparer.Ordinal));
        // The same dropped field is reported once, not once per subject.
        var warnings = new HashSet<string>(StringComparer.Ordinal);
        foreach (var issue in issues.OrderBy(i => i.Subject, StringComparer.Ordinal).ThenBy(i => i.Line))
        {
            if (issue.IsError || warnings.Add(issue.Message))
            {
                summary.Issues.Add(issue.IsError ? issue : issue with { Subject = null });
            }
        }
    }

    /// <param name="parallelism">
    /// Units in flight. Validating is CPU work (one per core; the validator gates itself there too); sending also
    /// waits for the gateway, so twice as many units are in flight that one validates while another is on the wire.
    /// </param>
    private async Task ForEach<T>(IEnumerable<T> units, Func<T, Task> body, string phase, Func<int> done, int parallelism, int total,
        CancellationToken cancellationToken)
    {
        using var timer = progress is null ? null : new Timer(_ => Draw(phase, done(), total), null, 250, 250);
        await Parallel.ForEachAsync(units, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (unit, _) => await body(unit));
        Draw(phase, done(), total);
        progress?.WriteLine();
    }

    private void Draw(string phase, int done, int total)
    {
        if (progress is null)
        {
            return;
        }

        // A bar when the total is known (the second pass), a counter otherwise.
        var text = total > 0
            ? $"\r{phase} [{new string('#', done * 30 / total),-30}] {done}/{total} subjects"
            : $"\r{phase} {done} subjects";
        lock (progress)
        {
            progress.Write(text);
        }
    }
}
