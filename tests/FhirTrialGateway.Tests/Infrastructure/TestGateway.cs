using System.Net.Http.Headers;
using FhirTrialGateway.Hosting;
using Hl7.Fhir.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FhirTrialGateway.Tests.Infrastructure;

/// <summary>
/// The real gateway, in process, on Kestrel at 127.0.0.1 with a random port and its own SQLite file in a fresh
/// temporary folder. Every test class gets its own, so no test depends on another's data.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, string directory, Uri baseUri)
    {
        _app = app;
        Directory = directory;
        BaseUri = baseUri;
        Http = new HttpClient { BaseAddress = baseUri };
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "gateway.db");

    /// <summary>The server root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseUri { get; }

    /// <summary>The FHIR base, e.g. http://127.0.0.1:41234/fhir.</summary>
    public string FhirBase => new Uri(BaseUri, "fhir").ToString();

    public HttpClient Http { get; }

    /// <summary>The gateway's own services (its store, for tests that drive the storage seam directly).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a gateway; <paramref name="settings"/> are extra configuration such as "Fhir:MaxRequestBodyBytes=1000".</summary>
    public static Task<TestGateway> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <summary>Starts a gateway; <paramref name="configure"/> can register services before the gateway's own.</summary>
    public static async Task<TestGateway> StartAsync(Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fhirgw-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0",
            $"--Storage:Sqlite:Path={Path.Combine(directory, "gateway.db")}",
            "--Serilog:MinimumLevel:Default=Warning",
            "--Validation:WarmOnStart=false", // warming takes tens of seconds of CPU; the validation tests warm one shared validator
        };
        if (!settings.Any(s => s.StartsWith("Auth:Enabled", StringComparison.Ordinal)))
        {
            args.Add("--Auth:Enabled=false");
        }

        args.AddRange(settings.Select(s => "--" + s));
        var app = GatewayApp.Build([.. args], configure);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGateway(app, directory, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>The Firely SDK's own client, as a hospital integration would use it.</summary>
    public FhirClient FhirClient(ResourceFormat format = ResourceFormat.Json) =>
        new(FhirBase, new FhirClientSettings { PreferredFormat = format, VerifyFhirVersion = true });

    public static StringContent Json(string json) => Content(json, "application/fhir+json");

    public static StringContent Content(string body, string mediaType)
    {
        var content = new StringContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by the OS is left for the temp cleaner; it is unique to this run.
        }
    }
}
