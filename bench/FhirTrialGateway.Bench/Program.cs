using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Bench;
using FhirTrialGateway.Core.Fhir;

// Benchmarks of the gateway. Each command starts fhirgw as a separate process on loopback, loads it from this
// process, and measures in the same run the baseline that bounds it. Figures go to docs/benchmarks.md.
var clients = new Option<int>("--clients") { Description = "Concurrent clients.", DefaultValueFactory = _ => 16 };
var seconds = new Option<int>("--seconds") { Description = "Measured seconds per phase.", DefaultValueFactory = _ => 10 };
var core = new Command("core", "Create and read throughput and latency, with the SDK's parse/serialize baseline.") { clients, seconds };
core.SetAction((parse, _) => CoreBenchmark.RunAsync(parse.GetValue(clients), TimeSpan.FromSeconds(parse.GetValue(seconds))));
var micro = new Command("micro", "Per-step cost of a create on one thread: parse, index extraction, serialize.");
micro.SetAction(_ => MicroBenchmark.Run());
var bundleSeconds = new Option<int>("--seconds") { Description = "Measured seconds per cell.", DefaultValueFactory = _ => 5 };
var bundles = new Command("bundles", "Transactions of 2, 100 and 1,000 entries from 1, 4 and 16 clients.") { bundleSeconds };
bundles.SetAction((parse, _) => BundleBenchmark.RunAsync(TimeSpan.FromSeconds(parse.GetValue(bundleSeconds))));
var searchResources = new Option<int>("--resources") { Description = "Resources to load (200 per subject).", DefaultValueFactory = _ => 1_000_000 };
var searchDatabase = new Option<string?>("--db") { Description = "Database file; loaded when absent, reused when present." };
var searchClients = new Option<int>("--clients") { Description = "Concurrent clients.", DefaultValueFactory = _ => 2 };
var searchSeconds = new Option<int>("--seconds") { Description = "Measured seconds per search.", DefaultValueFactory = _ => 10 };
var search = new Command("search", "Search latency and throughput over a store of --resources resources.") { searchResources, searchDatabase, searchClients, searchSeconds };
search.SetAction((parse, _) => SearchBenchmark.RunAsync(parse.GetValue(searchResources), parse.GetValue(searchDatabase), parse.GetValue(searchClients),
    TimeSpan.FromSeconds(parse.GetValue(searchSeconds))));
var root = new RootCommand("FhirTrialGateway benchmarks") { core, micro, bundles, search };
return await root.Parse(args).InvokeAsync();

internal static class CoreBenchmark
{
    public static async Task<int> RunAsync(int clients, TimeSpan duration)
    {
        Console.WriteLine($"# core benchmark: {clients} clients, {duration.TotalSeconds:0} s per phase, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var baseline = Baseline(duration);

        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false })
        {
            BaseAddress = gateway.BaseUri,
        };

        var bodies = Enumerable.Range(0, 1000).Select(n => ResourceSerializer.SerializeJson(SampleResources.Observation(n % 100, n))).ToArray();
        Console.WriteLine($"Observation size: {bodies[0].Length} bytes (JSON)");
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();

        async Task<bool> Create(int client, int n)
        {
            using var content = new ByteArrayContent(bodies[(client * 7919 + n) % bodies.Length]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "fhir/Observation") { Content = content };
            request.Headers.Add("Prefer", "return=minimal");
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return false;
            }

            var location = response.Headers.Location!.AbsolutePath.Split('/');
            ids.Add(location[3]);
            return true;
        }

        await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(2), Create);
        var cpuBefore = gateway.ProcessorTime;
        var creates = await LoadRunner.RunAsync("create (durable, synchronous=FULL)", clients, duration, Create);
        var createCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / creates.Requests;

        var readIds = ids.ToArray();
        async Task<bool> Read(int client, int n)
        {
            using var response = await http.GetAsync($"fhir/Observation/{readIds[(client * 104729 + n * 31) % readIds.Length]}");
            await response.Content.LoadIntoBufferAsync();
            return response.StatusCode == HttpStatusCode.OK;
        }

        await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(2), Read);
        cpuBefore = gateway.ProcessorTime;
        var reads = await LoadRunner.RunAsync("read", clients, duration, Read);
        var readCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / reads.Requests;

        Console.WriteLine();
        Console.WriteLine("| measurement | clients | requests | throughput /s | p50 ms | p99 ms | failures |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { creates, reads })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Clients} | {r.Requests} | {r.PerSecond:0} | {r.Percentile(0.5):0.00} | {r.Percentile(0.99):0.00} | {r.Failures} |"));
        }

        foreach (var (name, perSecond) in baseline)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| baseline: {name} | - | - | {perSecond:0} | - | - | - |"));
        }

        var parse2 = baseline.First(b => b.Name == "SDK parse JSON, 2 threads").PerSecond;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway CPU per request: create {createCpu:0} us, read {readCpu:0} us (the rest of the 2 cores is the load generator)."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"creates reach {creates.PerSecond / parse2:P1} of the SDK's bare 2-thread parse rate; reads need no parse (stored JSON is sent as is)."));
        return 0;
    }

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

internal static class MicroBenchmark
{
    public static int Run()
    {
        var json = ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1));
        var resource = ResourceSerializer.Parse(json, FhirFormat.Json);
        foreach (var (name, work) in new (string, Action)[]
                 {
                     ("parse", () => ResourceSerializer.Parse(json, FhirFormat.Json)),
                     ("extract index rows", () => FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(resource)),
                     ("serialize", () => ResourceSerializer.SerializeJson(resource)),
                 })
        {
            for (var i = 0; i < 5000; i++)
            {
                work();
            }

            var stopwatch = Stopwatch.StartNew();
            var n = 0;
            while (stopwatch.ElapsedMilliseconds < 2000)
            {
                work();
                n++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {stopwatch.Elapsed.TotalMicroseconds / n:0.0} us"));
        }

        return 0;
    }
}
