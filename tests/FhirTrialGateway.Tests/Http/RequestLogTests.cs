using System.Net;
using System.Text;
using FhirTrialGateway.Tests.Infrastructure;

namespace FhirTrialGateway.Tests.Http;

/// <summary>
/// The request log of the real executable, as an operator sees it on standard output: one line per request with
/// method, path, status and duration, written in batches (and all of it flushed on a graceful stop), and never a
/// byte of a resource body or a query string.
/// </summary>
public sealed class RequestLogTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhirgw-log", Guid.NewGuid().ToString("N"));

    public RequestLogTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public async Task Every_request_is_logged_with_method_path_and_status_and_no_patient_data()
    {
        const string familyName = "Zhangsanfeng-Unlikely";
        const string identifierValue = "MRN-77-4412";
        string patientPath;
        List<string> lines;
        using (var gateway = await GatewayProcess.StartAsync(Path.Combine(_directory, "gateway.db"), logLevel: "Information"))
        {
            var body = $$"""{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"{{identifierValue}}"}],"name":[{"family":"{{familyName}}"}]}""";
            using var created = await gateway.Http.PostAsync("fhir/Patient", new StringContent(body, Encoding.UTF8, "application/fhir+json"));
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            patientPath = created.Headers.Location!.AbsolutePath.Split("/_history")[0];

            (await gateway.Http.GetAsync(patientPath)).StatusCode.Should().Be(HttpStatusCode.OK);
            (await gateway.Http.GetAsync($"fhir/Patient?identifier={identifierValue}&family={familyName}")).StatusCode.Should().Be(HttpStatusCode.OK);
            (await gateway.Http.GetAsync("fhir/NoSuchType/1")).StatusCode.Should().Be(HttpStatusCode.NotFound);

            // Batches are written at least every 200 ms while running; the last one on a graceful stop.
            (await gateway.TerminateAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
            lines = [.. gateway.Output];
        }

        lines.Should().Contain(line => line.Contains("HTTP POST /fhir/Patient 201", StringComparison.Ordinal));
        lines.Should().Contain(line => line.Contains($"HTTP GET {patientPath} 200", StringComparison.Ordinal));
        lines.Should().Contain(line => line.Contains("HTTP GET /fhir/Patient 200", StringComparison.Ordinal),
            "a search is logged by its path alone");
        lines.Should().Contain(line => line.Contains("HTTP GET /fhir/NoSuchType/1 404", StringComparison.Ordinal));
        lines.Should().OnlyContain(line => !line.Contains(familyName, StringComparison.Ordinal) && !line.Contains(identifierValue, StringComparison.Ordinal),
            "neither a resource body nor a query string may reach the log");
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
