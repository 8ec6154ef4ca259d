using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Issue 6's benchmark: cold start to the first validation (the CLI as a fresh process, and in process; each with an
/// empty and then a filled definition cache), simple and trial Observations validated per second on one thread and on
/// every core, and the cost of validation on write as the ratio of the gateway's create throughput with and without a
/// claimed trial profile, in one run.
/// </summary>
internal static class ValidationBenchmark
{
    public static async Task<int> RunAsync(string profiles, int clients, TimeSpan duration)
    {
        Console.WriteLine($"# validation benchmark: {duration.TotalSeconds:0} s per phase, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var example = Path.Combine(profiles, "examples", "valid", "Observation-rutherford-1.json");
        // A cache folder of this run's own: the first start of each kind below is a true first start.
        var cacheRoot = Path.Combine(Path.GetTempPath(), "fhirgw-bench-validation", Guid.NewGuid().ToString("N"));
        try
        {
            await ColdStartOfTheCliAsync(example, Path.Combine(cacheRoot, "cli"));
            using var validator = ColdStartInProcess(profiles, example, Path.Combine(cacheRoot, "in-process"));

            var trial = Directory.GetFiles(Path.Combine(profiles, "examples", "valid"), "Observation-*.json")
                .Select(f => ResourceSerializer.Parse(File.ReadAllBytes(f), FhirFormat.Json)).ToArray();
            // The same Observations without their profile claims: simple resources, checked against core R4 only.
            var simple = trial.Select(o => (Resource)o.DeepCopy()).ToArray();
            foreach (var resource in simple)
            {
                resource.Meta!.Profile = [];
            }

            foreach (var (name, samples) in new[] { ("simple Observations (core R4 only)", simple), ("trial Observations (their profiles and core)", trial) })
            {
                foreach (var threads in new[] { 1, Environment.ProcessorCount })
                {
                    // Not counted: lets the JIT settle on optimized code for this mix first (seconds on a busy machine).
                    Throughput(validator, samples, threads, duration);
                    var (perSecond, perCpuSecond) = Throughput(validator, samples, threads, duration);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name} validated, {threads} thread(s): {perSecond:0}/s ({perCpuSecond:0} per CPU-second of the process)"));
                }
            }

            await OnWriteAsync(profiles, example, clients, duration);
        }
        finally
        {
            Directory.Delete(cacheRoot, recursive: true);
        }

        return 0;
    }

    /// <summary><c>fhirgw validate</c> of one Observation as a new process: the first run fills its cache, the second reads it.</summary>
    private static async Task ColdStartOfTheCliAsync(string example, string cache)
    {
        foreach (var run in new[] { "first run, empty cache", "second run, cache filled" })
        {
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(new ProcessStartInfo("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "fhirgw.dll"), "validate", "--cache", cache, example])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cold start, `fhirgw validate` of one Observation as a new process, {run}: {clock.Elapsed.TotalSeconds:0.00} s (exit {process.ExitCode}: {output.Trim().Split('\n')[^1]})"));
        }
    }

    /// <summary>A new ProfileValidator and its first validation, with an empty cache and then with the filled one; the latter is kept.</summary>
    private static ProfileValidator ColdStartInProcess(string profiles, string example, string cache)
    {
        var resource = ResourceSerializer.Parse(File.ReadAllBytes(example), FhirFormat.Json);
        ProfileValidator? validator = null;
        foreach (var run in new[] { "empty cache", "cache filled" })
        {
            validator?.Dispose();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            validator = new ProfileValidator(new ValidationOptions { ProfilesPath = profiles, SnapshotCachePath = cache });
            var first = validator.Validate(resource);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cold start in process (construct + first validation), {run}: {clock.Elapsed.TotalSeconds:0.00} s, CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.00} s, {first.Issue.Count(ValidationIssues.IsError)} errors, {validator.DefinitionCacheStatistics}"));
        }

        var warm = validator!.Warm();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up of every package profile (after the above): {warm.TotalSeconds:0.00} s"));
        return validator;
    }

    /// <summary>Validations per second of wall-clock time and per second of the process's CPU time, on <paramref name="threads"/> threads.</summary>
    private static (double PerSecond, double PerCpuSecond) Throughput(ProfileValidator validator, Resource[] samples, int threads, TimeSpan duration)
    {
        long count = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var n = t;
            while (stopwatch.Elapsed < duration)
            {
                validator.Validate(samples[n++ % samples.Length]);
                Interlocked.Increment(ref count);
            }
        });
        var seconds = stopwatch.Elapsed.TotalSeconds;
        return (count / seconds, count / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    /// <summary>The same Observation created with and without its meta.profile claim (only the claim triggers validation).</summary>
    private static async Task OnWriteAsync(string profiles, string example, int clients, TimeSpan duration)
    {
        var withClaim = File.ReadAllBytes(example);
        var resource = ResourceSerializer.Parse(withClaim, FhirFormat.Json);
        resource.Meta!.Profile = [];
        var withoutClaim = ResourceSerializer.SerializeJson(resource);
        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false", $"Validation:ProfilesPath={profiles}"]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = gateway.BaseUri };

        Func<int, int, Task<bool>> Create(byte[] body) => async (_, _) =>
        {
            using var response = await FhirPost.MinimalAsync(http, "fhir/Observation", body);
            return response.StatusCode == HttpStatusCode.Created;
        };

        await LoadRunner.RunAsync("warm-up (compiles the profile once)", 1, TimeSpan.FromSeconds(1), Create(withClaim));
        await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(2), Create(withoutClaim));
        await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(4), Create(withClaim));

        // Other work on the machine comes and goes: the two kinds alternate in short rounds, so a busy spell weighs on
        // both alike, and the gateway's own CPU time per create is counted too, which load elsewhere barely changes.
        var plain = new List<(LoadRunner.Result Result, TimeSpan Cpu)>();
        var validated = new List<(LoadRunner.Result Result, TimeSpan Cpu)>();
        const int Rounds = 4;
        for (var round = 0; round < Rounds; round++)
        {
            plain.Add(await MeasureAsync(gateway, "create without profile claim", clients, duration / Rounds, Create(withoutClaim)));
            validated.Add(await MeasureAsync(gateway, "create claiming the trial profile (validated on write)", clients, duration / Rounds, Create(withClaim)));
        }

        var (plainTotal, plainCpu) = Combine(plain);
        var (validatedTotal, validatedCpu) = Combine(validated);
        Console.WriteLine();
        Console.WriteLine("| measurement | clients | requests | throughput /s | p50 ms | p99 ms | failures | gateway CPU ms per create |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(CoreBenchmark.Row(plainTotal) + string.Create(CultureInfo.InvariantCulture, $" {plainCpu:0.000} |"));
        Console.WriteLine(CoreBenchmark.Row(validatedTotal) + string.Create(CultureInfo.InvariantCulture, $" {validatedCpu:0.000} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation on write costs {1 - validatedTotal.PerSecond / plainTotal.PerSecond:P1} of create throughput ({Rounds} alternating rounds), {1 - plainCpu / validatedCpu:P1} by the gateway's CPU time per create"));
    }

    private static async Task<(LoadRunner.Result Result, TimeSpan Cpu)> MeasureAsync(GatewayUnderTest gateway, string name, int clients,
        TimeSpan duration, Func<int, int, Task<bool>> request)
    {
        var before = gateway.ProcessorTime;
        var result = await LoadRunner.RunAsync(name, clients, duration, request);
        return (result, gateway.ProcessorTime - before);
    }

    /// <summary>The rounds of one kind as one result, and the gateway's CPU milliseconds per successful create.</summary>
    private static (LoadRunner.Result Result, double CpuMsPerCreate) Combine(List<(LoadRunner.Result Result, TimeSpan Cpu)> rounds)
    {
        var first = rounds[0].Result;
        var total = new LoadRunner.Result(first.Name, first.Clients, rounds.Sum(r => r.Result.Requests), rounds.Sum(r => r.Result.Failures),
            rounds.Sum(r => r.Result.Seconds), [.. rounds.SelectMany(r => r.Result.LatenciesMs)]);
        return (total, rounds.Sum(r => r.Cpu.TotalMilliseconds) / Math.Max(1, total.Requests));
    }
}
