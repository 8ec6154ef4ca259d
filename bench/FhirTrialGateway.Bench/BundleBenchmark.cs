using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Transactions of 2, 100 and 1,000 entries from 1, 4 and 16 clients, durable, against fhirgw in its own process.
/// Entries are visit-shaped (Patient, ResearchSubject, Observations, an AdverseEvent), every subject new, so each
/// entry is a real write. Reported in resources per second, next to the SDK's bare parse rate of the same bundles.
/// </summary>
internal static class BundleBenchmark
{
    public static async Task<int> RunAsync(TimeSpan duration)
    {
        Console.WriteLine($"# bundle benchmark: {duration.TotalSeconds:0} s per cell, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]);
        Console.WriteLine("| entries per transaction | clients | transactions/s | resources/s | p50 ms | p99 ms | failures | SDK parse of the same bundle, bundles/s (1 thread) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        var subjectCounter = 0;
        foreach (var size in new[] { 2, 100, 1000 })
        {
            var parseRate = ParseRate(Transaction(size, ref subjectCounter));
            foreach (var clients in new[] { 1, 4, 16 })
            {
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false })
                {
                    BaseAddress = gateway.BaseUri,
                    Timeout = TimeSpan.FromMinutes(5),
                };
                // Bodies are made before the clock starts, so the load generator spends its CPU on sending only.
                var bodies = new byte[size switch { 2 => 40_000, 100 => 1_500, _ => 150 }][];
                for (var i = 0; i < bodies.Length; i++)
                {
                    bodies[i] = ResourceSerializer.SerializeJson(Transaction(size, ref subjectCounter));
                }

                var next = -1;
                async Task<bool> Post(int client, int n)
                {
                    var index = Interlocked.Increment(ref next);
                    var body = index < bodies.Length
                        ? bodies[index]
                        : ResourceSerializer.SerializeJson(Transaction(size, ref subjectCounter));
                    using var response = await FhirPost.MinimalAsync(http, "fhir", body);
                    return response.StatusCode == HttpStatusCode.OK;
                }

                await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(1), Post);
                var result = await LoadRunner.RunAsync($"{size}", clients, duration, Post);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {size} | {clients} | {result.PerSecond:0.0} | {result.PerSecond * size:0} | {result.Percentile(0.5):0.0} | {result.Percentile(0.99):0.0} | {result.Failures} | {parseRate:0.0} |"));
            }
        }

        await ScalingAsync(gateway, subjectCounter + 1_000_000);
        return 0;
    }

    /// <summary>
    /// One client, transactions of 100, 1,000 and 10,000 entries, several of each: the time per entry should stay
    /// flat as transactions grow, and the gateway's memory should not grow with the number of bundles processed.
    /// </summary>
    private static async Task ScalingAsync(GatewayUnderTest gateway, int subjectCounter)
    {
        Console.WriteLine();
        Console.WriteLine("| entries per transaction | transactions | median ms per transaction | median us per entry | gateway working set after, MiB |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        using var http = new HttpClient { BaseAddress = gateway.BaseUri, Timeout = TimeSpan.FromMinutes(10) };
        foreach (var (size, count) in new[] { (100, 40), (1000, 10), (10_000, 5) })
        {
            var times = new List<double>();
            for (var i = 0; i < count; i++)
            {
                var body = ResourceSerializer.SerializeJson(Transaction(size, ref subjectCounter));
                var started = Stopwatch.GetTimestamp();
                using var response = await FhirPost.MinimalAsync(http, "fhir", body);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"A {size}-entry transaction failed: {(int)response.StatusCode}");
                }
            }

            var median = times.Order().ElementAt(times.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {count} | {median:0.0} | {median * 1000 / size:0.0} | {gateway.WorkingSetBytes / (1024.0 * 1024):0} |"));
        }
    }

    /// <summary>A transaction of <paramref name="size"/> entries: visits of 9 resources each, cut to size.</summary>
    private static Bundle Transaction(int size, ref int counter)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        while (bundle.Entry.Count < size)
        {
            var subject = $"B{Interlocked.Increment(ref counter):D10}";
            var patientUrl = $"urn:uuid:{Guid.NewGuid()}";
            Add(bundle, size, new Patient { Identifier = [new Identifier("urn:epc-cli:subject", subject)], Gender = AdministrativeGender.Female },
                "Patient", patientUrl, $"identifier=urn:epc-cli:subject|{subject}");
            Add(bundle, size, new ResearchSubject
            {
                Identifier = [new Identifier("urn:epc-cli:enrolment", subject)],
                Status = ResearchSubject.ResearchSubjectStatus.OnStudy,
                Study = new ResourceReference("ResearchStudy/epc-cli"),
                Individual = new ResourceReference(patientUrl),
                AssignedArm = "IV",
            }, "ResearchSubject", null, null);
            for (var i = 0; i < 6; i++)
            {
                var observation = SampleResources.Observation(0, i);
                observation.Identifier = [new Identifier("urn:epc-cli:obs", $"{subject}-{i}")];
                observation.Subject = new ResourceReference(patientUrl);
                Add(bundle, size, observation, "Observation", null, null);
            }

            Add(bundle, size, new AdverseEvent
            {
                Actuality = AdverseEvent.AdverseEventActuality.Actual,
                Subject = new ResourceReference(patientUrl),
                Event = new CodeableConcept("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C143485", "Fever"),
                Date = "2026-03-02",
            }, "AdverseEvent", null, null);
        }

        return bundle;
    }

    private static void Add(Bundle bundle, int size, Resource resource, string type, string? fullUrl, string? ifNoneExist)
    {
        if (bundle.Entry.Count >= size)
        {
            return;
        }

        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = fullUrl ?? $"urn:uuid:{Guid.NewGuid()}",
            Resource = resource,
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = type, IfNoneExist = ifNoneExist },
        });
    }

    private static double ParseRate(Bundle bundle)
    {
        var json = ResourceSerializer.SerializeJson(bundle);
        for (var i = 0; i < 20; i++)
        {
            ResourceSerializer.Parse(json, FhirFormat.Json);
        }

        var stopwatch = Stopwatch.StartNew();
        var n = 0;
        while (stopwatch.ElapsedMilliseconds < 1000)
        {
            ResourceSerializer.Parse(json, FhirFormat.Json);
            n++;
        }

        return n / stopwatch.Elapsed.TotalSeconds;
    }
}
