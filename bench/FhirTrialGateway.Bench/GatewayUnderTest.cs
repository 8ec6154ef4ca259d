using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FhirTrialGateway.Bench;

/// <summary>The gateway as users run it: fhirgw.dll in its own process, on a fresh SQLite file, on loopback.</summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private GatewayUnderTest(Process process, string directory, Uri baseUri)
    {
        _process = process;
        _directory = directory;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>The gateway process's resident memory now.</summary>
    public long WorkingSetBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <summary>CPU time the gateway process has used so far (all threads).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<GatewayUnderTest> StartAsync(IEnumerable<string> extraSettings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fhirgw-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fhirgw.dll"));
        foreach (var argument in new[] { "--urls", $"http://127.0.0.1:{port}", $"--Storage:Sqlite:Path={Path.Combine(directory, "gateway.db")}" }
                     .Concat(extraSettings.Select(s => "--" + s)))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayUnderTest(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await http.GetAsync("readyz")).IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The gateway did not start.");
    }

    public async ValueTask DisposeAsync()
    {
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
