using System.Diagnostics;
using System.Globalization;
using System.Net;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Search latency and throughput on a large store. Loads the trial's shape in process through the store's write path
/// (large batches; index extraction in parallel): per subject a Patient, a ResearchSubject, two AdverseEvents and
/// Observations, 200 resources per subject in all (5,000 subjects at 1,000,000). Then starts fhirgw on that file and
/// measures the five searches over HTTP.
/// </summary>
internal static class SearchBenchmark
{
    private const int ResourcesPerSubject = 200;
    private const int Codes = 10;

    public static async Task<int> RunAsync(int resources, string? databasePath, int clients, TimeSpan duration)
    {
        var subjects = Math.Max(1, resources / ResourcesPerSubject);
        var path = databasePath ?? Path.Combine(Path.GetTempPath(), "fhirgw-bench", $"search-{resources}.db");
        Console.WriteLine($"# search benchmark: {resources:N0} resources ({subjects:N0} subjects), {clients} clients, {duration.TotalSeconds:0} s per search, "
                          + $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        if (!File.Exists(path))
        {
            await LoadAsync(path, subjects);
        }
        else
        {
            Console.WriteLine($"reusing {path}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"database: {new FileInfo(path).Length / 1048576.0:0} MiB"));
        await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false", $"Storage:Sqlite:Path={path}", "Serilog:MinimumLevel:Default=Warning"]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = gateway.BaseUri };

        async Task<bool> Get(string url)
        {
            using var response = await http.GetAsync("fhir/" + url);
            await response.Content.LoadIntoBufferAsync();
            return response.StatusCode == HttpStatusCode.OK;
        }

        int Subject(int client, int n) => ((client * 7919) + (n * 104729)) % subjects;
        var searches = new (string Name, Func<int, int, string> Url)[]
        {
            ("subject + code + date range", (c, n) => $"Observation?subject=Patient/pat-{Subject(c, n)}&code=http://loinc.org|{Code(n)}&date=ge2025-01-01&date=lt2025-07-01"),
            ("chained: subject:Patient.identifier + code", (c, n) => $"Observation?subject:Patient.identifier=urn:epc-cli:subject|EPC-{Subject(c, n)}&code=http://loinc.org|{Code(n)}"),
            ("_revinclude Observations of a ResearchSubject's patient", (c, n) =>
                $"ResearchSubject?_id=rs-{Subject(c, n)}&_include=ResearchSubject:individual&_revinclude:iterate=Observation:subject"),
            ("_summary=count of a code", (c, n) => $"Observation?code=http://loinc.org|{Code(n)}&_summary=count"),
        };

        var results = new List<LoadRunner.Result>();
        foreach (var (name, url) in searches)
        {
            await LoadRunner.RunAsync("warm-up", clients, TimeSpan.FromSeconds(2), (c, n) => Get(url(c, n)));
            results.Add(await LoadRunner.RunAsync(name, clients, duration, (c, n) => Get(url(c, n))));
        }

        results.Add(await PageAsync(http, clients, duration));

        Console.WriteLine();
        Console.WriteLine("| search | clients | requests | throughput /s | p50 ms | p99 ms | failures |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Clients} | {r.Requests} | {r.PerSecond:0} | {r.Percentile(0.5):0.00} | {r.Percentile(0.99):0.00} | {r.Failures} |"));
        }

        return 0;
    }

    private static string Code(int n) => $"{1000 + (n % Codes)}-{n % Codes}";

    /// <summary>Walks 10,000 matches (100 pages of 100) following next links; one request is one page.</summary>
    private static async Task<LoadRunner.Result> PageAsync(HttpClient http, int clients, TimeSpan duration)
    {
        var latencies = new List<double>();
        var failures = 0;
        var walks = 0;
        var stopwatch = Stopwatch.StartNew();
        var pages = 0;
        while (stopwatch.Elapsed < duration || walks == 0)
        {
            string? next = $"fhir/Observation?code=http://loinc.org|{Code(walks)}&_count=100";
            var seen = 0;
            while (next is not null && seen < 10_000)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(next);
                var bundle = (Bundle)ResourceSerializer.Parse(await response.Content.ReadAsByteArrayAsync(), FhirFormat.Json);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures++;
                    break;
                }

                seen += bundle.Entry.Count;
                pages++;
                next = bundle.Link.FirstOrDefault(l => l.Relation == "next")?.Url is { } url ? new Uri(url).PathAndQuery.TrimStart('/') : null;
            }

            walks++;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"paging: {walks} walks of 10,000 matches, {stopwatch.Elapsed.TotalSeconds / walks:0.00} s per walk (1 client)"));
        return new LoadRunner.Result("paging through 10,000 results (per page of 100)", 1, pages, failures, stopwatch.Elapsed.TotalSeconds, [.. latencies]);
    }

    private static async System.Threading.Tasks.Task LoadAsync(string path, int subjects)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stopwatch = Stopwatch.StartNew();
        var total = 0L;
        await using (var store = SqliteResourceStore.Open(new SqliteStoreOptions { Path = path, MaxWritesPerCommit = 4 }, NullLogger.Instance))
        {
            System.Threading.Tasks.Task? pending = null;
            const int SubjectsPerBatch = 10;
            for (var first = 0; first < subjects; first += SubjectsPerBatch)
            {
                var batch = Enumerable.Range(first, Math.Min(SubjectsPerBatch, subjects - first)).SelectMany(SubjectResources).ToArray();
                var rows = new SearchIndexRows[batch.Length];
                Parallel.For(0, batch.Length, i => rows[i] = SearchIndexer.Instance.Extract(batch[i].Resource));
                if (pending is not null)
                {
                    await pending;
                }

                pending = store.WriteAsync(session =>
                {
                    for (var i = 0; i < batch.Length; i++)
                    {
                        _ = batch[i].Id is { } id
                            ? ResourceWriter.Update(session, batch[i].Resource, id, rows[i], null)
                            : ResourceWriter.Create(session, batch[i].Resource, rows[i]);
                    }

                    return 0;
                }, CancellationToken.None);
                total += batch.Length;
                if (first % 500 == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {total:N0} resources, {total / stopwatch.Elapsed.TotalSeconds:0}/s"));
                }
            }

            if (pending is not null)
            {
                await pending;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load: {total:N0} resources in {stopwatch.Elapsed.TotalSeconds:0} s ({total / stopwatch.Elapsed.TotalSeconds:0}/s)"));
    }

    /// <summary>One subject: Patient, ResearchSubject, 2 AdverseEvents and 196 Observations over two years, 10 codes.</summary>
    private static IEnumerable<(string? Id, Resource Resource)> SubjectResources(int s)
    {
        var patient = $"pat-{s}";
        yield return (patient, new Patient
        {
            Identifier = [new Identifier("urn:epc-cli:subject", $"EPC-{s}")],
            Name = [new HumanName { Family = $"Family{s % 977}", Given = [$"Given{s % 131}"] }],
            Gender = s % 2 == 0 ? AdministrativeGender.Female : AdministrativeGender.Male,
            BirthDateElement = new Date(1940 + (s % 40)),
        });
        yield return ($"rs-{s}", new ResearchSubject
        {
            Status = ResearchSubject.ResearchSubjectStatus.OnStudy,
            Study = new ResourceReference("ResearchStudy/epc-cli"),
            Individual = new ResourceReference($"Patient/{patient}"),
            Identifier = [new Identifier("urn:epc-cli:enrolment", $"ENR-{s}")],
        });
        for (var a = 0; a < 2; a++)
        {
            yield return (null, new AdverseEvent
            {
                Actuality = AdverseEvent.AdverseEventActuality.Actual,
                Subject = new ResourceReference($"Patient/{patient}"),
                Event = new CodeableConcept("http://snomed.info/sct", a == 0 ? "422587007" : "68962001"),
                DateElement = new FhirDateTime(2025, 1 + ((s + a) % 12), 1 + (s % 28)),
                Study = [new ResourceReference("ResearchStudy/epc-cli")],
            });
        }

        for (var n = 0; n < ResourcesPerSubject - 4; n++)
        {
            var observation = SampleResources.Observation(s, n);
            observation.Subject = new ResourceReference($"Patient/{patient}");
            observation.Code = new CodeableConcept("http://loinc.org", Code(n), "Measure " + (n % Codes));
            observation.Effective = new FhirDateTime(new DateTimeOffset(2024, 1, 1, 8, 0, 0, TimeSpan.Zero).AddHours((n * 89) + (s % 24)));
            yield return (null, observation);
        }
    }
}
