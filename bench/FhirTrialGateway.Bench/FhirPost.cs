using System.Net.Http.Headers;

namespace FhirTrialGateway.Bench;

/// <summary>The request every load of the benchmarks sends: a FHIR JSON body POSTed with Prefer: return=minimal.</summary>
internal static class FhirPost
{
    public static async Task<HttpResponseMessage> MinimalAsync(HttpClient http, string path, byte[] body,
        Action<HttpRequestMessage>? authorize = null, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add("Prefer", "return=minimal");
        authorize?.Invoke(request);
        return await http.SendAsync(request, cancellationToken);
    }
}
