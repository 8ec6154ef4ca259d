using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;

namespace FhirTrialGateway.Bench;

/// <summary>
/// The create-then-read load both the core and the security benchmarks run: durable creates of a 1.3 KB trial
/// Observation (Prefer: return=minimal), then reads of random created ids, from N clients, with the gateway's CPU
/// time per request.
/// </summary>
internal static class CreateReadLoad
{
    public sealed record Figures(LoadRunner.Result Creates, LoadRunner.Result Reads, double CreateCpuMicroseconds, double ReadCpuMicroseconds);

    // Long enough for tiered compilation to finish: a perf profile of the first seconds under load showed the JIT
    // (tier-1 recompiles) taking a fifth of the gateway's CPU 3-7 s after start, and none after 14 s.
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(8);

    public static readonly byte[][] Bodies =
        Enumerable.Range(0, 1000).Select(n => ResourceSerializer.SerializeJson(SampleResources.Observation(n % 100, n))).ToArray();

    /// <param name="authorize">Adds credentials to each request (null: none, development mode).</param>
    public static async Task<Figures> RunAsync(GatewayUnderTest gateway, int clients, TimeSpan duration, Action<HttpRequestMessage>? authorize = null)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = gateway.BaseUri };
        var ids = new ConcurrentBag<string>();

        async Task<bool> Create(int client, int n)
        {
            using var response = await FhirPost.MinimalAsync(http, "fhir/Observation", Bodies[(client * 7919 + n) % Bodies.Length], authorize);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return false;
            }

            ids.Add(response.Headers.Location!.AbsolutePath.Split('/')[3]);
            return true;
        }

        await LoadRunner.RunAsync("warm-up", clients, WarmUp, Create);
        var cpuBefore = gateway.ProcessorTime;
        var creates = await LoadRunner.RunAsync("create (durable: answered after the WAL fsync)", clients, duration, Create);
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
        var reads = await LoadRunner.RunAsync("read", clients, duration, Read);
        var readCpu = (gateway.ProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, reads.Requests);
        return new Figures(creates, reads, createCpu, readCpu);
    }
}
