using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Tests.Mapping;
using FhirTrialGateway.Validation;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Issue 7's benchmark: synthetic EPC-CLI exports (ODM 1.3 and REDCap, the tests' generator, streamed to temp files)
/// imported to files at two sizes (throughput and peak memory, which streaming should keep flat), then to a running
/// gateway, next to the baseline from the same run: the gateway's own ingest of the same bundles posted directly,
/// with the import's concurrency. The import is not the bottleneck when its rate to the gateway matches that baseline.
/// </summary>
internal static class ImportBenchmark
{
    private const string Study = "NCT06359912";

    public static async Task<int> RunAsync(string repo, int[] sizes, int serverSubjects, int[] redcapSizes)
    {
        var concurrency = Environment.ProcessorCount * 2; // what the import keeps in flight while sending (ImportRunner)
        Console.WriteLine($"# import benchmark: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");
        var work = Path.Combine(Path.GetTempPath(), "fhirgw-bench-import", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var mapping = TrialMapping.Load(Path.Combine(repo, "trials", "epc-cli", "mapping.json"));
            var cold = Stopwatch.StartNew();
            using var validator = new ProfileValidator(new ValidationOptions { ProfilesPath = Path.Combine(repo, "profiles") }, repo);
            var checker = new ResourceChecker(validator);
            // The validator's first use of each profile compiles it (seconds): done once here, reported, and not
            // counted in the rates below, as a long import pays it once too.
            var warmFile = Path.Combine(work, "warm.odm.xml");
            new EpcCliExportGenerator(20).Write(warmFile);
            await Run(Importer.OdmAsync([warmFile], mapping, Study, checker, new FolderSink(Path.Combine(work, "warm")), false, null, CancellationToken.None));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"validator cold start (construct + first import of 20 subjects): {cold.Elapsed.TotalSeconds:0.0} s"));

            Console.WriteLine();
            Console.WriteLine("| input | subjects | file MiB | generate s | import s | subjects/s | resources/s | import CPU s | peak managed MiB | peak working set MiB |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var odmFiles = new Dictionary<int, string>();
            foreach (var size in sizes)
            {
                var odm = Path.Combine(work, $"epc-cli-{size}.odm.xml");
                var generated = Stopwatch.StartNew();
                new EpcCliExportGenerator(size).Write(odm);
                var generateSeconds = generated.Elapsed.TotalSeconds;
                odmFiles[size] = odm;
                await ToFiles("ODM 1.3", size, odm, generateSeconds, Path.Combine(work, $"bundles-{size}"),
                    sink => Importer.OdmAsync([odm], mapping, Study, checker, sink, false, null, CancellationToken.None));
            }

            if (serverSubjects > 0)
            {
                if (!odmFiles.TryGetValue(serverSubjects, out var odm))
                {
                    odm = Path.Combine(work, $"epc-cli-{serverSubjects}.odm.xml");
                    new EpcCliExportGenerator(serverSubjects).Write(odm);
                    await Run(Importer.OdmAsync([odm], mapping, Study, checker, new FolderSink(Path.Combine(work, $"bundles-{serverSubjects}")), false, null, CancellationToken.None));
                }

                await ToGateway(repo, serverSubjects, odm, Path.Combine(work, $"bundles-{serverSubjects}"), mapping, checker, concurrency);
            }
            // Last, so that a run cut short still has the gateway figures; the table continues the one above.
            if (redcapSizes.Length > 0)
            {
                Console.WriteLine();
                Console.WriteLine("| input | subjects | file MiB | generate s | import s | subjects/s | resources/s | import CPU s | peak managed MiB | peak working set MiB |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            }

            foreach (var size in redcapSizes)
            {
                var dictionary = Path.Combine(work, $"epc-cli-{size}.dictionary.csv");
                var data = Path.Combine(work, $"epc-cli-{size}.data.csv");
                var generated = Stopwatch.StartNew();
                new EpcCliExportGenerator(size).WriteRedcap(dictionary, data);
                await ToFiles("REDCap CSV", size, data, generated.Elapsed.TotalSeconds, Path.Combine(work, $"redcap-bundles-{size}"),
                    sink => Importer.RedcapAsync(dictionary, [data], mapping, Study, checker, sink, false, null, CancellationToken.None));
            }

        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        return 0;
    }

    private static async Task ToFiles(string input, int size, string file, double generateSeconds, string folder, Func<IBundleSink, Task<ImportSummary>> import)
    {
        ImportSummary summary;
        long managed, workingSet;
        var cpu = CpuTime();
        using (var peak = PeakMemory.Start())
        {
            await using var sink = new FolderSink(folder);
            summary = await Run(import(sink));
            (managed, workingSet) = (peak.PeakManagedBytes, peak.PeakWorkingSetBytes);
        }

        var seconds = summary.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {input} to files | {summary.Subjects:N0} | {new FileInfo(file).Length / 1048576.0:0.0} | {generateSeconds:0.0} | {seconds:0.0} | {summary.Subjects / seconds:0} | {summary.Written / seconds:0} | {(CpuTime() - cpu).TotalSeconds:0} | {managed / 1048576.0:0} | {workingSet / 1048576.0:0} |"));
    }

    /// <summary>
    /// The baseline first (the bundles the import wrote to files, compact as the import sends them, posted by as many
    /// clients as the import runs in parallel, into a fresh gateway), then the import into another fresh gateway. Each gateway gets the
    /// study record first, which the subjects' bundles reference.
    /// </summary>
    private static async Task ToGateway(string repo, int subjects, string odm, string bundles, TrialMapping mapping, ResourceChecker checker, int concurrency)
    {
        var files = Directory.GetFiles(bundles, "*.json");
        var record = Path.Combine(repo, "trials", "epc-cli", $"{Study}.ctgov.json");
        Console.WriteLine();
        Console.WriteLine($"To a running gateway (development mode, validation on write, fresh SQLite file each), {subjects:N0} subjects, {concurrency} in flight:");
        Console.WriteLine();
        Console.WriteLine("| measurement | s | subjects/s | resources/s | gateway CPU s | import CPU s | failures |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");

        await using (var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]))
        {
            var fhir = new Uri(gateway.BaseUri, "fhir");
            await using (var sink = new ServerSink(fhir))
            {
                await Run(Importer.CtgovAsync([record], checker, sink, false, null, CancellationToken.None));
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
            // Bodies as the import sends them (compact JSON), made before the clock, so the poster spends nothing but sending.
            var bodies = files.Select(f => ResourceSerializer.SerializeJson(ResourceSerializer.Parse(File.ReadAllBytes(f), FhirFormat.Json))).ToArray();
            var resources = files.Sum(f => CountEntries(File.ReadAllBytes(f)));
            // The gateway's first validations of each profile compile it: paid once on a few bundles before the clock.
            var first = bodies.Take(concurrency * 2).ToArray();
            var rest = bodies.Skip(first.Length).ToArray();
            resources -= first.Sum(CountEntries);
            await Post(http, fhir, first, concurrency);
            var cpu = gateway.ProcessorTime;
            var clock = Stopwatch.StartNew();
            var failures = await Post(http, fhir, rest, concurrency);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| baseline: the gateway ingesting the same bundles posted directly | {seconds:0.0} | {rest.Length / seconds:0} | {resources / seconds:0} | {(gateway.ProcessorTime - cpu).TotalSeconds:0} | - | {failures} |"));
        }

        var warm = Path.Combine(Path.GetDirectoryName(odm)!, "warm-server.odm.xml");
        new EpcCliExportGenerator(concurrency * 2).Write(warm);
        await ImportToGateway("`fhirgw import odm --server` (validate all, then map again and send)", skipInvalid: false);
        // --skip-invalid is one pass: each subject is validated and sent at once, so validation overlaps the gateway's work.
        await ImportToGateway("`fhirgw import odm --server --skip-invalid` (one pass: validate and send each subject)", skipInvalid: true);

        async Task ImportToGateway(string label, bool skipInvalid)
        {
            await using var gateway = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]);
            await using var sink = new ServerSink(new Uri(gateway.BaseUri, "fhir"));
            await Run(Importer.CtgovAsync([record], checker, sink, false, null, CancellationToken.None));
            // The same warm-up as the baseline's: a few subjects imported before the clock.
            await Run(Importer.OdmAsync([warm], mapping, Study, checker, sink, skipInvalid, null, CancellationToken.None));
            var (cpu, own) = (gateway.ProcessorTime, CpuTime());
            var summary = await Run(Importer.OdmAsync([odm], mapping, Study, checker, sink, skipInvalid, null, CancellationToken.None));
            var seconds = summary.Elapsed.TotalSeconds;
            var resources = summary.Created + summary.Updated + summary.Unchanged;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {seconds:0.0} | {summary.Subjects / seconds:0} | {resources / seconds:0} | {(gateway.ProcessorTime - cpu).TotalSeconds:0} | {(CpuTime() - own).TotalSeconds:0} | {summary.RejectedSubjects.Count} |"));
        }
    }

    private static async Task<int> Post(HttpClient http, Uri fhir, byte[][] bodies, int concurrency)
    {
        var failures = 0;
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (body, cancellationToken) =>
        {
            using var response = await FhirPost.MinimalAsync(http, fhir.ToString(), body, cancellationToken: cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref failures);
            }
        });
        return failures;
    }

    private static int CountEntries(byte[] bundle)
    {
        using var document = System.Text.Json.JsonDocument.Parse(bundle);
        return document.RootElement.GetProperty("entry").GetArrayLength();
    }

    private static async Task<ImportSummary> Run(Task<ImportSummary> import)
    {
        var summary = await import;
        if (summary.HasErrors)
        {
            throw new InvalidOperationException("The synthetic import has errors: " + string.Join("; ", summary.Issues.Where(i => i.IsError).Take(5)));
        }

        return summary;
    }

    /// <summary>This process's CPU time: on a shared machine a steadier measure of the import's cost than its wall time.</summary>
    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
