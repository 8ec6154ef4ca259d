using System.Globalization;
using System.Security.Cryptography;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Mapping.Smart;
using Microsoft.IdentityModel.Tokens;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Issue 3's benchmark: the same create and read load against a gateway in development mode and against one with
/// everything on (SMART token validation, scope checks, audit of every request), in one run, as a ratio.
/// The API rate limit is raised for the secured gateway: the benchmark measures the cost of security, not the limiter.
/// </summary>
internal static class SecurityBenchmark
{
    public static async Task<int> RunAsync(int clients, TimeSpan duration, LoadGenerator generator)
    {
        Console.WriteLine($"# security benchmark: {clients} clients, {duration.TotalSeconds:0} s per phase, load from {generator}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        CreateReadLoad.Figures development;
        await using (var open = await GatewayUnderTest.StartAsync(["Auth:Enabled=false", "Validation:WarmOnStart=false"]))
        {
            development = await CreateReadLoad.RunAsync(open, clients, duration, generator);
        }

        using var key = JwkFiles.Generate(SecurityAlgorithms.EcdsaSha384);
        var kid = JwkFiles.Thumbprint(key);
        var jwks = JwkFiles.ToPublicJwks(key, SecurityAlgorithms.EcdsaSha384).ToJsonString();
        CreateReadLoad.Figures secured;
        await using (var gateway = await GatewayUnderTest.StartAsync(
        [
            "Validation:WarmOnStart=false", "RateLimit:ApiPermitsPerSecond=1000000", "RateLimit:ApiBurst=1000000",
            "Auth:Clients:0:Id=bench-ehr", "Auth:Clients:0:Role=hospital", "Auth:Clients:0:Site=SITE-A",
            "Auth:Clients:0:Scopes:0=system/Observation.cruds", $"Auth:Clients:0:Jwks={jwks}",
        ]))
        {
            var token = await TokenAsync(gateway, (ECDsa)key, kid);
            secured = await CreateReadLoad.RunAsync(gateway, clients, duration, generator, token);
        }

        Console.WriteLine();
        Console.WriteLine("| measurement | development mode /s | security on /s | security on vs off | p99 ms off | p99 ms on |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, off, on) in new[] { ("create", development.Creates, secured.Creates), ("read", development.Reads, secured.Reads) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {off.PerSecond:0} | {on.PerSecond:0} | {on.PerSecond / off.PerSecond - 1:+0.0%;-0.0%} | {off.Percentile(0.99):0.00} | {on.Percentile(0.99):0.00} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gateway CPU per request, off/on: create {development.CreateCpuMicroseconds:0}/{secured.CreateCpuMicroseconds:0} us, read {development.ReadCpuMicroseconds:0}/{secured.ReadCpuMicroseconds:0} us; failures on: {secured.Creates.Failures + secured.Reads.Failures}"));
        return 0;
    }

    /// <summary>SMART Backend Services: a signed client assertion exchanged for an access token (valid 5 minutes).</summary>
    private static async Task<string> TokenAsync(GatewayUnderTest gateway, ECDsa key, string kid)
    {
        var tokenUrl = new Uri(gateway.BaseUri, "auth/token");
        var assertion = BackendServicesToken.CreateAssertion("bench-ehr", new ECDsaSecurityKey(key) { KeyId = kid },
            SecurityAlgorithms.EcdsaSha384, tokenUrl.ToString(), TimeProvider.System);
        using var http = new HttpClient();
        var answer = await BackendServicesToken.RequestAsync(http, tokenUrl, assertion, "system/Observation.cruds", CancellationToken.None);
        return answer.AccessToken ?? throw new InvalidOperationException($"No token: {answer.Status} {answer.Body}");
    }
}
