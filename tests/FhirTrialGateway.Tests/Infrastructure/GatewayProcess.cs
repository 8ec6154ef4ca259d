using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FhirTrialGateway.Tests.Infrastructure;

/// <summary>
/// The real fhirgw executable in its own process (dotnet fhirgw.dll from the test output), for the tests that kill
/// or stop it. Output is drained so the child never blocks on a full pipe.
/// </summary>
public sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public HttpClient Http { get; }

    public int Id => _process.Id;

    /// <summary>Every line the process wrote to standard output so far.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    /// <param name="logLevel">Serilog's minimum level (Error keeps the crash tests' output small).</param>
    public static async Task<GatewayProcess> StartAsync(string databasePath, int? port = null, string logLevel = "Error")
    {
        var chosen = port ?? FreePort();
        var executable = Path.Combine(AppContext.BaseDirectory, "fhirgw.dll");
        File.Exists(executable).Should().BeTrue($"the gateway executable is built beside the tests ({executable})");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     executable, "--urls", $"http://127.0.0.1:{chosen}", $"--Storage:Sqlite:Path={databasePath}",
                     "--Auth:Enabled=false", $"--Serilog:MinimumLevel:Default={logLevel}", "--Validation:WarmOnStart=false",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var gateway = new GatewayProcess(process, chosen);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                gateway.Output.Enqueue(line.Data);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await gateway.WaitUntilReadyAsync();
        return gateway;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a power cut for the process.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM: the host's graceful shutdown; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            _process.HasExited.Should().BeFalse("the gateway process must stay up while starting");
            try
            {
                if ((await Http.GetAsync("readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The gateway process did not become ready within 60 s.");
    }
}
