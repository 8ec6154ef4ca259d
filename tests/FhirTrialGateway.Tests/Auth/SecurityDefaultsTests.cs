using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>Item 7: CORS only when configured; the API answers 429 with Retry-After and an OperationOutcome past its limit.</summary>
public sealed class SecurityDefaultsTests : GatewayTest
{
    protected override string[] Settings =>
        ["Cors:AllowedOrigins:0=https://app.example.org", "RateLimit:ApiPermitsPerSecond=1", "RateLimit:ApiBurst=3"];

    [Fact]
    public async Task Api_past_its_rate_limit_answers_429_with_retry_after_and_a_throttled_outcome()
    {
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await Http.GetAsync("fhir/Patient");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        limited.Should().NotBeNull("a burst of 3 at 1 per second is exhausted by 10 quick requests");
        limited!.Headers.RetryAfter!.Delta.Should().BePositive();
        (await TestData.ReadAsync<OperationOutcome>(limited)).Issue.Single().Code.Should().Be(OperationOutcome.IssueType.Throttled);
        (await Http.GetAsync("healthz")).StatusCode.Should().Be(HttpStatusCode.OK, "probes are not rate-limited");
    }

    [Fact]
    public async Task Cors_answers_only_the_configured_origin()
    {
        using var allowed = Preflight("https://app.example.org");
        var response = await Http.SendAsync(allowed);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("https://app.example.org");

        using var other = Preflight("https://evil.example");
        (await Http.SendAsync(other)).Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "fhir/metadata");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        return request;
    }
}

/// <summary>Without configuration, no CORS header is ever sent.</summary>
public sealed class CorsOffByDefaultTests : GatewayTest
{
    [Fact]
    public async Task No_cors_headers_without_configuration()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fhir/metadata");
        request.Headers.Add("Origin", "https://app.example.org");
        (await Http.SendAsync(request)).Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }
}
