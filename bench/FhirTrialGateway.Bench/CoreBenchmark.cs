using System.Diagnostics;
using System.Globalization;
using FhirTrialGateway.Core.Fhir;

namespace FhirTrialGateway.Bench;

/// <summary>Issue 2's benchmark: durable create and read through HTTP, and the SDK's bare parse/serialize rates.</summary>
internal static class CoreBenchmark
{
    public static async Task<int> RunAsync(int clients, TimeSpan duration, LoadGenerator generator, bool randomOrder)
    {
        Console.WriteLine($"# core benchmark: {clients} clients, {duration.TotalSeconds:0} s per phase, load from {generator}, " +
            $"Observations {(randomOrder ? "in random order" : "in order")}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        if (generator == LoadGenerator.HttpClient && !WrkLoad.Installed)
        {
            Console.WriteLine("wrk is not installed (apt-get install wrk): the load comes from HttpClient, which takes about 70 us of the 2 cores per request.");
        }

        var baseline = Baseline(duration);
        Console.WriteLine($"Observation size: {CreateReadLoad.Bodies[0].Length} bytes (JSON)");

        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]);
        var figures = await CreateReadLoad.RunAsync(gateway, clients, duration, generator, randomOrder: randomOrder);

        Console.WriteLine();
        Console.WriteLine("| measurement | clients | requests | throughput /s | p50 ms | p99 ms | failures |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { figures.Creates, figures.Reads })
        {
            Console.WriteLine(Row(r));
        }

        foreach (var (name, perSecond) in baseline)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| baseline: {name} | - | - | {perSecond:0} | - | - | - |"));
        }

        var parse2 = baseline.First(b => b.Name == "SDK parse JSON, 2 threads").PerSecond;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway CPU per request: create {figures.CreateCpuMicroseconds:0} us, read {figures.ReadCpuMicroseconds:0} us (the rest of the machine is the load generator)."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"creates reach {figures.Creates.PerSecond / parse2:P1} of the SDK's bare 2-thread parse rate; reads need no parse (stored JSON is sent as is)."));
        return 0;
    }

    public static string Row(LoadRunner.Result r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Name} | {r.Clients} | {r.Requests} | {r.PerSecond:0} | {r.Percentile(0.5):0.00} | {r.Percentile(0.99):0.00} | {r.Failures} |");

    /// <summary>The bare cost of the Firely SDK on the same resource: what no server can beat.</summary>
    private static List<(string Name, double PerSecond)> Baseline(TimeSpan duration)
    {
        var json = ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1));
        var resource = ResourceSerializer.Parse(json, FhirFormat.Json);
        var results = new List<(string, double)>();
        foreach (var threads in new[] { 1, 2 })
        {
            var suffix = threads == 1 ? "1 thread" : $"{threads} threads";
            results.Add(($"SDK parse JSON, {suffix}", Measure(threads, duration / 2, () => ResourceSerializer.Parse(json, FhirFormat.Json))));
            results.Add(($"SDK serialize JSON, {suffix}", Measure(threads, duration / 2, () => ResourceSerializer.SerializeJson(resource))));
        }

        return results;
    }

    private static double Measure(int threads, TimeSpan duration, Action work)
    {
        for (var i = 0; i < 2000; i++)
        {
            work();
        }

        long total = 0;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            long mine = 0;
            while (stopwatch.Elapsed < duration)
            {
                for (var i = 0; i < 100; i++)
                {
                    work();
                }

                mine += 100;
            }

            Interlocked.Add(ref total, mine);
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return total / stopwatch.Elapsed.TotalSeconds;
    }
}
