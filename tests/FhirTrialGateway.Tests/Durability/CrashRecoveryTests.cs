using System.Collections.Concurrent;
using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Tests.Durability;

/// <summary>
/// A write is committed before it is acknowledged: the real executable is loaded by concurrent writers, killed with
/// SIGKILL (or stopped with SIGTERM) mid-load, restarted on the same file, and every acknowledged write is there.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhirgw-crash", Guid.NewGuid().ToString("N"));

    public CrashRecoveryTests() => Directory.CreateDirectory(_directory);

    private int _acknowledgedCount;

    private string DatabasePath => Path.Combine(_directory, "gateway.db");

    /// <summary>What a writer was told: this version of this resource holds this value.</summary>
    private sealed record Acknowledged(string Id, int Version, decimal Value);

    [Fact]
    public async Task Every_acknowledged_write_survives_SIGKILL_mid_load_and_nothing_is_half_written()
    {
        ConcurrentBag<Acknowledged> acknowledged;
        using (var gateway = await GatewayProcess.StartAsync(DatabasePath))
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(() => WriteUntilStopped(gateway.Http, w, stop.Token))).ToArray();
            // Kill once the load is real (on a busy machine the first requests can take seconds), at the latest after 60 s.
            for (var waited = 0; Volatile.Read(ref _acknowledgedCount) < 300 && waited < 600; waited++)
            {
                await Task.Delay(100);
            }

            gateway.Kill(); // mid-load: requests are in flight on every writer
            await stop.CancelAsync();
            acknowledged = new ConcurrentBag<Acknowledged>((await Task.WhenAll(writers)).SelectMany(x => x));
        }

        acknowledged.Should().HaveCountGreaterThan(100, "the load must have been real before the kill");
        await VerifyAfterRestart(acknowledged);
    }

    [Fact]
    public async Task Graceful_shutdown_finishes_in_flight_writes_and_exits_cleanly()
    {
        ConcurrentBag<Acknowledged> acknowledged;
        using (var gateway = await GatewayProcess.StartAsync(DatabasePath))
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(() => WriteUntilStopped(gateway.Http, w, stop.Token))).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(1));
            var exitCode = await gateway.TerminateAsync(TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            acknowledged = new ConcurrentBag<Acknowledged>((await Task.WhenAll(writers)).SelectMany(x => x));
            exitCode.Should().Be(0);
        }

        acknowledged.Should().NotBeEmpty();
        await VerifyAfterRestart(acknowledged);
    }

    private async Task VerifyAfterRestart(IReadOnlyCollection<Acknowledged> acknowledged)
    {
        using (var restarted = await GatewayProcess.StartAsync(DatabasePath))
        {
            var missing = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (ack, ct) =>
            {
                var response = await restarted.Http.GetAsync($"fhir/Observation/{ack.Id}/_history/{ack.Version}", ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    missing.Add($"{ack.Id}/_history/{ack.Version}: {(int)response.StatusCode}");
                    return;
                }

                var observation = await TestData.ReadAsync<Observation>(response);
                if (((Quantity)observation.Value!).Value != ack.Value)
                {
                    missing.Add($"{ack.Id}/_history/{ack.Version}: value {((Quantity)observation.Value!).Value} != {ack.Value}");
                }
            });
            missing.Should().BeEmpty("every acknowledged write must be durable");

            // Nothing half-written: every stored version parses as a whole resource.
            string? next = "fhir/Observation/_history?_count=500";
            var versions = 0;
            while (next is not null)
            {
                var page = await TestData.ReadAsync<Bundle>(await restarted.Http.GetAsync(next));
                page.Entry.Should().OnlyContain(e => e.Resource is Observation && e.Resource.Meta.VersionId != null);
                versions += page.Entry.Count;
                next = page.NextLink?.PathAndQuery.TrimStart('/');
            }

            versions.Should().BeGreaterThanOrEqualTo(acknowledged.Count);
        }

        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        (await check.ExecuteScalarAsync()).Should().Be("ok");
    }

    /// <summary>Creates, then updates with If-Match, recording only what the server acknowledged.</summary>
    private async Task<List<Acknowledged>> WriteUntilStopped(HttpClient http, int writer, CancellationToken stop)
    {
        var acknowledged = new List<Acknowledged>();
        var n = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var value = (writer * 1_000_000) + n++;
                var observation = TestData.WalkingDistance($"w{writer}", value, identifier: $"crash-{writer}-{n}");
                var created = await http.PostAsync("fhir/Observation", TestGateway.Json(TestData.ToJson(observation)), stop);
                if (created.StatusCode != HttpStatusCode.Created)
                {
                    continue;
                }

                var stored = await TestData.ReadAsync<Observation>(created);
                acknowledged.Add(new Acknowledged(stored.Id!, 1, value));
                Interlocked.Increment(ref _acknowledgedCount);

                ((Quantity)stored.Value!).Value = value + 0.5m;
                var update = new HttpRequestMessage(HttpMethod.Put, $"fhir/Observation/{stored.Id}") { Content = TestGateway.Json(TestData.ToJson(stored)) };
                update.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");
                var updated = await http.SendAsync(update, stop);
                if (updated.StatusCode == HttpStatusCode.OK)
                {
                    acknowledged.Add(new Acknowledged(stored.Id!, 2, value + 0.5m));
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // The server died or stopped under us: whatever was not acknowledged is not expected to exist.
        }

        return acknowledged;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
