using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Bench;

/// <summary>Which program sends the load: wrk (C, event loop) or .NET's HttpClient in this process.</summary>
internal enum LoadGenerator
{
    Wrk,
    HttpClient,
}

/// <summary>
/// The create-then-read load both the core and the security benchmarks run: durable creates of a 1.3 KB trial
/// Observation (Prefer: return=minimal), then reads of created ids, from N clients, with the gateway's CPU time per
/// request.
/// </summary>
internal static class CreateReadLoad
{
    public sealed record Figures(LoadRunner.Result Creates, LoadRunner.Result Reads, double CreateCpuMicroseconds, double ReadCpuMicroseconds);

    // Long enough for tiered compilation to finish: a perf profile of the first seconds under load showed the JIT
    // (tier-1 recompiles) taking a fifth of the gateway's CPU 3-7 s after start, and none after 14 s.
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(8);

    /// <summary>Ids read in turn by the wrk read phase (a sample of the created ones, in random order).</summary>
    private const int WrkReadIds = 50_000;

    public static readonly byte[][] Bodies =
        Enumerable.Range(0, 1000).Select(n => ResourceSerializer.SerializeJson(SampleResources.Observation(n % 100, n))).ToArray();

    /// <summary>wrk when it is installed, otherwise HttpClient (printed with the figures).</summary>
    public static LoadGenerator DefaultGenerator => WrkLoad.Installed ? LoadGenerator.Wrk : LoadGenerator.HttpClient;

    /// <summary>
    /// <see cref="Bodies"/> in a fixed random order. Each client sends its list in order, so with <see cref="Bodies"/>
    /// the creates that share a commit carry neighbouring subjects and identifiers and share index leaves; in this
    /// order their index keys scatter as traffic from many sites would.
    /// </summary>
    public static readonly byte[][] BodiesInRandomOrder = Shuffled(Bodies);

    /// <param name="bearerToken">An access token sent with each request (null: none, development mode).</param>
    /// <param name="randomOrder">Send <see cref="BodiesInRandomOrder"/> instead of <see cref="Bodies"/>.</param>
    public static Task<Figures> RunAsync(GatewayUnderTest gateway, int clients, TimeSpan duration, LoadGenerator generator, string? bearerToken = null,
        bool randomOrder = false) =>
        generator == LoadGenerator.Wrk
            ? RunWithWrkAsync(gateway, clients, duration, bearerToken, randomOrder ? BodiesInRandomOrder : Bodies)
            : RunWithHttpClientAsync(gateway, clients, duration, bearerToken, randomOrder ? BodiesInRandomOrder : Bodies);

    private static byte[][] Shuffled(byte[][] bodies)
    {
        var copy = (byte[][])bodies.Clone();
        new Random(20261125).Shuffle(copy);
        return copy;
    }

    private static async Task<Figures> RunWithWrkAsync(GatewayUnderTest gateway, int clients, TimeSpan duration, string? bearerToken, byte[][] bodies)
    {
        var authorization = bearerToken is null ? null : "Bearer " + bearerToken;
        var creates = bodies.Select(body => ("POST", "/fhir/Observation", (byte[]?)body)).ToList();
        await WrkLoad.RunAsync("warm-up", gateway.BaseUri, clients, WarmUp, creates, authorization);
        var cpuBefore = gateway.ProcessorTime;
        var created = await WrkLoad.RunAsync("create (durable: answered after the WAL fsync)", gateway.BaseUri, clients, duration, creates, authorization);
        var createCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, created.Requests);

        var reads = CreatedObservationIds(gateway.DatabasePath).Select(id => ("GET", $"/fhir/Observation/{id}", (byte[]?)null)).ToList();
        await WrkLoad.RunAsync("warm-up", gateway.BaseUri, clients, WarmUp, reads, authorization);
        cpuBefore = gateway.ProcessorTime;
        var read = await WrkLoad.RunAsync("read", gateway.BaseUri, clients, duration, reads, authorization);
        var readCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, read.Requests);
        return new Figures(created, read, createCpu, readCpu);
    }

    /// <summary>A random sample of the Observations the create phases made, read from the gateway's file (WAL mode lets a reader in).</summary>
    private static List<string> CreatedObservationIds(string databasePath)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM resources WHERE resource_type = 'Observation' ORDER BY random() LIMIT $n";
        command.Parameters.AddWithValue("$n", WrkReadIds);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids.Count > 0 ? ids : throw new InvalidOperationException("The create phase made no Observation to read.");
    }

    private static async Task<Figures> RunWithHttpClientAsync(GatewayUnderTest gateway, int clients, TimeSpan duration, string? bearerToken,
        byte[][] bodies)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = gateway.BaseUri };
        Action<HttpRequestMessage>? authorize = bearerToken is null
            ? null
            : request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        var ids = new ConcurrentBag<string>();

        async Task<bool> Create(int client, int n)
        {
            using var response = await FhirPost.MinimalAsync(http, "fhir/Observation", bodies[(client * 7919 + n) % bodies.Length], authorize);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return false;
            }

            ids.Add(response.Headers.Location!.AbsolutePath.Split('/')[3]);
            return true;
        }

        await LoadRunner.RunAsync("warm-up", clients, WarmUp, Create);
        var cpuBefore = gateway.ProcessorTime;
        var creates = await LoadRunner.RunAsync("create (durable: answered after the WAL fsync) [HttpClient]", clients, duration, Create);
        var createCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, creates.Requests);

        var readIds = ids.ToArray();
        async Task<bool> Read(int client, int n)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"fhir/Observation/{readIds[(client * 104729 + n * 31) % readIds.Length]}");
            authorize?.Invoke(request);
            using var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return response.StatusCode == HttpStatusCode.OK;
        }

        await LoadRunner.RunAsync("warm-up", clients, WarmUp, Read);
        cpuBefore = gateway.ProcessorTime;
        var reads = await LoadRunner.RunAsync("read [HttpClient]", clients, duration, Read);
        var readCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, reads.Requests);
        return new Figures(creates, reads, createCpu, readCpu);
    }
}
