using System.Net.Http.Headers;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Mapping.Smart;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Mapping.Output;

/// <summary>
/// POSTs each bundle as a transaction to a gateway's FHIR base. The transaction-response says per entry: 201 is a
/// creation; 200 is an update when the version was written by this transaction, and unchanged when the server kept
/// the existing version (its lastModified is older than the transaction's).
/// </summary>
public sealed class ServerSink : IBundleSink
{
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly BackendServicesTokenSource? _tokens;

    /// <summary>Sends with the tokens of a SMART Backend Services client, renewed as they expire (the sink owns the source).</summary>
    public ServerSink(Uri fhirBase, BackendServicesTokenSource tokens, HttpMessageHandler? handler = null)
        : this(fhirBase, (string?)null, handler) => _tokens = tokens;

    public ServerSink(Uri fhirBase, string? bearerToken = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(fhirBase);
        _base = new Uri(fhirBase.ToString().TrimEnd('/') + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromMinutes(5);
        if (bearerToken is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        }
    }

    public async Task<SendResult> SendAsync(string key, Bundle bundle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var json = ResourceSerializer.SerializeJson(bundle);
        var sent = DateTimeOffset.UtcNow;
        var token = _tokens is null ? null : await _tokens.GetAsync(null, cancellationToken);
        var response = await PostAsync(json, token, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized && _tokens is not null)
        {
            // Refused before it was written (expired early, or the server restarted with a new key): once more with a new token.
            response.Dispose();
            response = await PostAsync(json, await _tokens.GetAsync(token, cancellationToken), cancellationToken);
        }

        using var _ = response;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        Resource? answer = null;
        try
        {
            answer = ResourceSerializer.Parse(body, FhirFormat.Json);
        }
        catch (FhirException)
        {
            // Not FHIR (a proxy's error page): reported with the status below.
        }

        if (!response.IsSuccessStatusCode || answer is not Bundle result)
        {
            var detail = answer is OperationOutcome outcome
                ? string.Join("; ", outcome.Issue.Select(i => $"{i.Diagnostics ?? i.Details?.Text} at {string.Join(",", i.Expression)}"))
                : $"{body.Length} bytes of {response.Content.Headers.ContentType}";
            return new SendResult(0, 0, 0, 0, $"the gateway answered {(int)response.StatusCode}: {detail}");
        }

        // Entries written by this transaction share its timestamp (a created entry shows it); entries the server
        // kept unchanged carry an older one. Without a created entry, the send time stands in for it, moved by the
        // server's clock offset (from its Date header) when that is clearly off.
        var written = result.Entry.FirstOrDefault(e => e.Response?.Status?.StartsWith("201", StringComparison.Ordinal) == true)?.Response?.LastModified;
        if (written is null && response.Headers.Date is { } serverNow && (serverNow - DateTimeOffset.UtcNow).Duration() > TimeSpan.FromSeconds(2))
        {
            sent += serverNow - DateTimeOffset.UtcNow;
        }

        var threshold = written ?? sent;
        int created = 0, updated = 0, unchanged = 0;
        foreach (var entry in result.Entry)
        {
            var status = entry.Response?.Status ?? "";
            if (status.StartsWith("201", StringComparison.Ordinal))
            {
                created++;
            }
            else if (entry.Response?.LastModified is { } modified && modified < threshold)
            {
                unchanged++;
            }
            else
            {
                updated++;
            }
        }

        return new SendResult(created, updated, unchanged, result.Entry.Count);
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] json, string? token, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
        using var request = new HttpRequestMessage(HttpMethod.Post, _base) { Content = content };
        // The counts need only each entry's status and lastModified: the gateway then skips serialising every resource back.
        request.Headers.Add("Prefer", "return=minimal");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _http.SendAsync(request, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _tokens?.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
