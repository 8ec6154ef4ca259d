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
/// Issue 6's benchmark: cold start to the first validation (the CLI as a fresh process, and in process), resources
/// validated per second against the trial profiles on one thread and on every core, and the cost of validation on
/// write as the ratio of the gateway's create throughput with and without a claimed trial profile, in one run.
/// </summary>
internal static class ValidationBenchmark
{
    public static async Task<int> RunAsync(string profiles, int clients, TimeSpan duration)
    {
        Console.WriteLine($"# validation benchmark: {duration.TotalSeconds:0} s per phase, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var example = Path.Combine(profiles, "examples", "valid", "Observation-rutherford-1.json");

        var cli = Stopwatch.StartNew();
        using (var process = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "fhirgw.dll"), "validate", example])
               { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cold start, `fhirgw validate` of one Observation as a new process: {cli.Elapsed.TotalSeconds:0.0} s"));

        var resource = ResourceSerializer.Parse(File.ReadAllBytes(example), FhirFormat.Json);
        var cold = Stopwatch.StartNew();
        using var validator = new ProfileValidator(new ValidationOptions { ProfilesPath = profiles });
        var first = validator.Validate(resource);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cold start in process (construct + first validation): {cold.Elapsed.TotalSeconds:0.0} s, {first.Issue.Count(ValidationIssues.IsError)} errors"));
        var warm = validator.Warm();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up of every package profile: {warm.TotalSeconds:0.0} s"));

        var samples = Directory.GetFiles(Path.Combine(profiles, "examples", "valid"), "Observation-*.json")
            .Select(f => ResourceSerializer.Parse(File.ReadAllBytes(f), FhirFormat.Json)).ToArray();
        foreach (var threads in new[] { 1, Environment.ProcessorCount })
        {
            long count = 0;
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
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trial Observations validated against their profiles, {threads} thread(s): {count / stopwatch.Elapsed.TotalSeconds:0}/s"));
        }

        await OnWriteAsync(profiles, example, clients, duration);
        return 0;
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
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "fhir/Observation") { Content = content };
            request.Headers.Add("Prefer", "return=minimal");
            using var response = await http.SendAsync(request);
            return response.StatusCode == HttpStatusCode.Created;
        };

        await LoadRunner.RunAsync("warm-up (compiles the profile once)", 1, TimeSpan.FromSeconds(1), Create(withClaim));
        await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(2), Create(withoutClaim));
        var plain = await LoadRunner.RunAsync("create without profile claim", clients, duration, Create(withoutClaim));
        var validated = await LoadRunner.RunAsync("create claiming the trial profile (validated on write)", clients, duration, Create(withClaim));
        Console.WriteLine();
        Console.WriteLine("| measurement | clients | requests | throughput /s | p50 ms | p99 ms | failures |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(CoreBenchmark.Row(plain));
        Console.WriteLine(CoreBenchmark.Row(validated));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation on write costs {1 - validated.PerSecond / plain.PerSecond:P1} of create throughput"));
    }
}
