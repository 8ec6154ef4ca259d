using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Load from wrk (Debian package <c>wrk</c>), a C load generator: HTTP/1.1 keep-alive connections driven by an event
/// loop, a few microseconds of CPU per request. The HttpClient load generator (<see cref="LoadRunner"/>) costs about
/// 70 us of CPU per request, as much as a gateway read, and it shares the machine's 2 cores with the gateway; wrk
/// leaves those cores to the gateway, as the reference figures (Kestrel at 65,000-97,000 trivial GETs/s on this
/// kind of machine) were measured. Each wrk thread cycles through pre-built requests; a Lua <c>done</c> hook prints the
/// counts and the 50th/99th latency percentiles from wrk's own histogram in one parseable line.
/// </summary>
internal static class WrkLoad
{
    public static bool Installed { get; } = FindOnPath("wrk");

    /// <summary>One of <paramref name="requests"/> per request, in turn (each wrk thread starts at its own offset).</summary>
    public static async Task<LoadRunner.Result> RunAsync(string name, Uri baseUri, int clients, TimeSpan duration,
        IReadOnlyList<(string Method, string Path, byte[]? Body)> requests, string? authorization = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fhirgw-bench-wrk", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var script = Path.Combine(directory, "load.lua");
            await File.WriteAllTextAsync(script, Script(directory, requests, authorization));
            var threads = Math.Min(clients, Environment.ProcessorCount);
            var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture),
                         "-d", $"{(int)duration.TotalSeconds}s", "--timeout", "10s", "-s", script, baseUri.ToString().TrimEnd('/') })
            {
                start.ArgumentList.Add(argument);
            }

            using var wrk = Process.Start(start)!;
            var output = await wrk.StandardOutput.ReadToEndAsync();
            var errors = await wrk.StandardError.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("FHIRGW ", StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"wrk printed no result (exit {wrk.ExitCode}): {output} {errors}");
            var f = line.Split(' ');
            var total = long.Parse(f[1], CultureInfo.InvariantCulture);
            var failures = long.Parse(f[2], CultureInfo.InvariantCulture) + long.Parse(f[3], CultureInfo.InvariantCulture);
            var seconds = double.Parse(f[4], CultureInfo.InvariantCulture) / 1e6;
            var p50 = double.Parse(f[5], CultureInfo.InvariantCulture) / 1000;
            var p99 = double.Parse(f[6], CultureInfo.InvariantCulture) / 1000;
            return new LoadRunner.Result(name + " [wrk]", clients, (int)(total - failures), (int)failures, seconds, [])
            {
                FixedPercentiles = new Dictionary<double, double> { [0.5] = p50, [0.99] = p99 },
            };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The requests are written to files that every wrk thread reads in <c>init</c> and pre-formats, so the
    /// measured loop only hands out strings.
    /// </summary>
    private static string Script(string directory, IReadOnlyList<(string Method, string Path, byte[]? Body)> requests, string? authorization)
    {
        var list = Path.Combine(directory, "requests.txt");
        var lines = new StringBuilder();
        for (var i = 0; i < requests.Count; i++)
        {
            var (method, path, body) = requests[i];
            string? bodyFile = null;
            if (body is not null)
            {
                bodyFile = Path.Combine(directory, $"body-{i}.json");
                File.WriteAllBytes(bodyFile, body);
            }

            lines.Append(method).Append(' ').Append(path).Append(' ').Append(bodyFile ?? "-").Append('\n');
        }

        File.WriteAllText(list, lines.ToString());
        var auth = authorization is null ? "" : $"headers[\"Authorization\"] = \"{authorization}\"";
        return $$"""
            local prepared = {}
            local next = 1
            local thread_number = 0
            setup = function(thread)
              thread:set("offset", thread_number * 7919)
              thread_number = thread_number + 1
            end
            init = function(args)
              for line in io.lines("{{list}}") do
                local method, path, file = line:match("^(%S+) (%S+) (%S+)$")
                local headers = {}
                {{auth}}
                local body = nil
                if file ~= "-" then
                  local f = io.open(file, "rb"); body = f:read("*a"); f:close()
                  headers["Content-Type"] = "application/fhir+json"
                  headers["Prefer"] = "return=minimal"
                end
                prepared[#prepared + 1] = wrk.format(method, path, headers, body)
              end
              next = (offset or 0) % #prepared + 1
            end
            request = function()
              local r = prepared[next]
              next = next % #prepared + 1
              return r
            end
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("FHIRGW %d %d %d %d %.0f %.0f\n", summary.requests, e.status,
                e.connect + e.read + e.write + e.timeout, summary.duration, latency:percentile(50), latency:percentile(99)))
            end
            """;
    }

    private static bool FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, program)));
}
