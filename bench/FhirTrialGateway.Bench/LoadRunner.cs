using System.Diagnostics;

namespace FhirTrialGateway.Bench;

/// <summary>Runs one request kind from N concurrent clients for a fixed time and collects every latency.</summary>
internal static class LoadRunner
{
    public sealed record Result(string Name, int Clients, int Requests, int Failures, double Seconds, double[] LatenciesMs)
    {
        public double PerSecond => Requests / Seconds;

        /// <summary>Percentiles computed elsewhere (wrk's histogram) when the single latencies are not at hand.</summary>
        public IReadOnlyDictionary<double, double>? FixedPercentiles { get; init; }

        public double Percentile(double p)
        {
            if (FixedPercentiles is not null)
            {
                return FixedPercentiles.TryGetValue(p, out var fixedValue) ? fixedValue : double.NaN;
            }

            if (LatenciesMs.Length == 0)
            {
                return double.NaN;
            }

            var sorted = LatenciesMs.Order().ToArray();
            return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }

    /// <summary>
    /// Each client runs <paramref name="request"/> in a loop; a request counts if it returns true. Requests started
    /// before <paramref name="duration"/> ends are completed; the count covers only the measured window.
    /// </summary>
    public static async Task<Result> RunAsync(string name, int clients, TimeSpan duration, Func<int, int, Task<bool>> request)
    {
        var latencies = new List<double>[clients];
        var failures = 0;
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var mine = latencies[client] = new List<double>(16_384);
            var n = 0;
            while (stopwatch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = await request(client, n++);
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                if (ok)
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return new Result(name, clients, all.Length, failures, seconds, all);
    }
}
