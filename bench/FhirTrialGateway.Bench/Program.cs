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
var load = new Option<LoadGenerator>("--load")
{
    Description = "What sends the create/read load: wrk (the default when installed) or HttpClient (in this process).",
    DefaultValueFactory = _ => CreateReadLoad.DefaultGenerator,
};
var randomOrder = new Option<bool>("--random-order")
{
    Description = "Send the Observations in a random order, so that the index keys of one commit scatter (default: in order, as earlier figures).",
};
var core = new Command("core", "Create and read throughput and latency, with the SDK's parse/serialize baseline.") { clients, seconds, load, randomOrder };
core.SetAction((parse, _) => CoreBenchmark.RunAsync(parse.GetValue(clients), TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(load),
    parse.GetValue(randomOrder)));
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
var securitySeconds = new Option<int>("--seconds") { Description = "Measured seconds per phase.", DefaultValueFactory = _ => 8 };
var security = new Command("security", "Create and read with authentication, scopes and audit on, against development mode, in one run.") { clients, securitySeconds, load };
security.SetAction((parse, _) => SecurityBenchmark.RunAsync(parse.GetValue(clients), TimeSpan.FromSeconds(parse.GetValue(securitySeconds)), parse.GetValue(load)));
var validationProfiles = new Option<string>("--profiles") { Description = "The trial package folder.", DefaultValueFactory = _ => "profiles" };
var validationSeconds = new Option<int>("--seconds") { Description = "Measured seconds per phase.", DefaultValueFactory = _ => 8 };
var validation = new Command("validation", "Validator cold start, throughput on 1 and all cores, and the cost of validation on write.")
{
    validationProfiles, clients, validationSeconds,
};
validation.SetAction((parse, _) => ValidationBenchmark.RunAsync(Path.GetFullPath(parse.GetValue(validationProfiles)!), parse.GetValue(clients),
    TimeSpan.FromSeconds(parse.GetValue(validationSeconds))));
var importSizes = new Option<int[]>("--subjects") { Description = "Export sizes imported to files.", DefaultValueFactory = _ => [1_000, 10_000], AllowMultipleArgumentsPerToken = true };
var importServer = new Option<int>("--server-subjects") { Description = "Export size imported to a running gateway (0: skip).", DefaultValueFactory = _ => 2_000 };
var importRedcap = new Option<int[]>("--redcap-subjects") { Description = "REDCap export sizes imported to files (last).", DefaultValueFactory = _ => [1_000, 10_000], AllowMultipleArgumentsPerToken = true };
var importRepo = new Option<string>("--repo") { Description = "The repository root (trials/, profiles/).", DefaultValueFactory = _ => "." };
var import = new Command("import", "Synthetic EPC-CLI ODM and REDCap exports imported to files and to a gateway, with the gateway's direct ingest as baseline.")
{
    importSizes, importServer, importRedcap, importRepo,
};
import.SetAction((parse, _) => ImportBenchmark.RunAsync(Path.GetFullPath(parse.GetValue(importRepo)!), parse.GetValue(importSizes)!, parse.GetValue(importServer),
    parse.GetValue(importRedcap)!));
var walSeconds = new Option<int>("--seconds") { Description = "Seconds of creates.", DefaultValueFactory = _ => 4 };
var wal = new Command("wal", "WAL frames (pages written) per create, by B-tree, under the core benchmark's create load.") { clients, walSeconds };
wal.SetAction((parse, _) => WalBenchmark.RunAsync(parse.GetValue(clients), TimeSpan.FromSeconds(parse.GetValue(walSeconds))));
var root = new RootCommand("FhirTrialGateway benchmarks") { core, micro, bundles, search, security, validation, import, wal };
return await root.Parse(args).InvokeAsync();

internal static class MicroBenchmark
{
    public static int Run()
    {
        var json = ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1));
        var resource = ResourceSerializer.Parse(json, FhirFormat.Json);
        static FhirTrialGateway.Core.Audit.AuditTrail Trail()
        {
            var trail = new FhirTrialGateway.Core.Audit.AuditTrail("bench", null, "127.0.0.1") { Interaction = "create", Action = Hl7.Fhir.Model.AuditEvent.AuditEventAction.C };
            trail.Touched("Observation/0192-aaaa/_history/1");
            return trail;
        }

        var auditEvent = Trail().Build(201, DateTimeOffset.UtcNow);
        var rows = FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(resource);
        Console.WriteLine($"index rows of the Observation: tokens {rows.Tokens.Count}, strings {rows.Strings.Count}, dates {rows.Dates.Count}, " +
                          $"numbers {rows.Numbers.Count}, quantities {rows.Quantities.Count}, references {rows.References.Count}, uris {rows.Uris.Count}, composites {rows.Composites.Count}");
        var auditRows = FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(auditEvent);
        Console.WriteLine($"index rows of a create's AuditEvent: {auditRows.Count} ({string.Join(", ", auditRows.Tokens.Select(t => t.Parameter).Concat(auditRows.Strings.Select(t => t.Parameter)).Concat(auditRows.References.Select(t => t.Parameter)).Concat(auditRows.Dates.Select(t => t.Parameter)).Concat(auditRows.Uris.Select(t => t.Parameter)))})");
        foreach (var (name, work) in new (string, Action)[]
                 {
                     ("parse", () => ResourceSerializer.Parse(json, FhirFormat.Json)),
                     ("extract index rows (same instance)", () => FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(resource)),
                     ("parse + extract index rows (fresh instance)", () => FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(ResourceSerializer.Parse(json, FhirFormat.Json))),
                     ("serialize", () => ResourceSerializer.SerializeJson(resource)),
                     ("build an AuditEvent", () => Trail().Build(201, DateTimeOffset.UtcNow)),
                     ("extract index rows of an AuditEvent", () => FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(auditEvent)),
                     ("walk the references (bundle rewriting)", () => _ = FhirTrialGateway.Core.Bundles.ReferenceRewriter.References(resource).ToList()),
                 })
        {
            for (var i = 0; i < 5000; i++)
            {
                work();
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var stopwatch = Stopwatch.StartNew();
            var n = 0;
            while (stopwatch.ElapsedMilliseconds < 2000)
            {
                work();
                n++;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {stopwatch.Elapsed.TotalMicroseconds / n:0.0} us, {allocated / n / 1024.0:0.0} KiB allocated"));
        }

        StoreCreates(withAudit: false, ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1)), "Observation");
        StoreCreates(withAudit: true, ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1)), "Observation");
        StoreCreates(withAudit: false, ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1)), "Observation", noIndex: true);
        StoreCreates(withAudit: false, ResourceSerializer.SerializeJson(SampleResources.Observation(1, 1)), "Observation", timeUnits: true);
        StoreCreates(withAudit: false, System.Text.Encoding.UTF8.GetBytes("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"x\"}}"), "Basic");
        return 0;
    }

    /// <summary>The write path without HTTP: ResourceService creates against a real SQLite file, 8 in flight.</summary>
    private static void StoreCreates(bool withAudit, byte[] json, string type, bool noIndex = false, bool timeUnits = false)
    {
        long unitTicks = 0;
        var directory = Path.Combine(Path.GetTempPath(), "fhirgw-micro", Guid.NewGuid().ToString("N"));
        var store = FhirTrialGateway.Storage.Sqlite.SqliteResourceStore.Open(
            new FhirTrialGateway.Storage.Sqlite.SqliteStoreOptions { Path = Path.Combine(directory, "g.db") },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var service = new FhirTrialGateway.Core.Resources.ResourceService(store);
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        const int count = 8000;
        var next = 0;
        // Eight creates in flight, as eight concurrent requests would be; nobody blocks a thread while waiting.
        Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var resource = ResourceSerializer.Parse(json, FhirFormat.Json);
                var audit = withAudit ? new FhirTrialGateway.Core.Audit.AuditTrail("bench", null, "127.0.0.1") { Interaction = "create" } : null;
                if (timeUnits)
                {
                    var rows = FhirTrialGateway.Core.Search.SearchIndexer.Instance.Extract(resource);
                    await store.WriteAsync(session =>
                    {
                        var started = Stopwatch.GetTimestamp();
                        var result = FhirTrialGateway.Core.Resources.ResourceWriter.Create(session, resource, rows);
                        Interlocked.Add(ref unitTicks, Stopwatch.GetTimestamp() - started);
                        return result;
                    }, CancellationToken.None);
                }
                else if (noIndex)
                {
                    await store.WriteAsync(session => FhirTrialGateway.Core.Resources.ResourceWriter.Create(session, resource,
                        FhirTrialGateway.Core.Storage.SearchIndexRows.Empty), CancellationToken.None);
                }
                else
                {
                    await service.CreateAsync(type, resource, null, CancellationToken.None, audit);
                }
            }
        }))).GetAwaiter().GetResult();
        var used = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store create {type}{(withAudit ? " + audit" : "")}{(noIndex ? " without index rows" : "")}{(timeUnits ? $" (writer work per unit {unitTicks * 1e6 / Stopwatch.Frequency / count:0} us)" : "")}: {count / stopwatch.Elapsed.TotalSeconds:0}/s, CPU {used.TotalMicroseconds / count:0} us per create"));
        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(directory, true);
    }
}
