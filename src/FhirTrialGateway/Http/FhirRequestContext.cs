using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>What an interaction needs from the HTTP request beyond its route: base URL, body, and FHIR headers.</summary>
internal static class FhirRequestContext
{
    /// <summary>The FHIR base URL as clients reach it (configurable as Fhir:BaseUrl behind a proxy).</summary>
    public static string BaseUrl(HttpContext context)
    {
        var configured = context.RequestServices.GetRequiredService<GatewayOptions>().BaseUrl;
        if (!string.IsNullOrEmpty(configured))
        {
            return configured.TrimEnd('/');
        }

        var request = context.Request;
        return $"{request.Scheme}://{request.Host}{request.PathBase}/fhir";
    }

    /// <summary>Reads and parses the body; the size limit is enforced by Kestrel (413) before this is reached.</summary>
    public static Task<Resource> ReadResourceAsync(HttpRequest request) =>
        ReadResourceAsync(request, request.HttpContext.RequestServices.GetRequiredService<GatewayOptions>().MaxRequestBodyBytes);

    /// <summary>Reads a body that may be larger than the general limit (bundles), up to <paramref name="limit"/>.</summary>
    public static async Task<Resource> ReadResourceAsync(HttpRequest request, long limit)
    {
        var format = FhirMediaTypes.RequestFormat(request);
        // Only counted, never buffered: draining costs time, not memory. (It used to be at most the limit itself, so a
        // chunked body twice the limit was cut off mid-send and the client saw a broken pipe instead of the 413.)
        var overshoot = DrainAllowance;
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // Kestrel stops (and resets the connection) only well past the limit: a body a little too large is read
            // to its end and answered 413, so the client reliably gets the answer instead of a reset connection.
            size.MaxRequestBodySize = limit + overshoot;
        }

        if (request.ContentLength is { } declared && declared > limit + overshoot)
        {
            throw TooLarge(declared, limit);
        }

        var cancel = request.HttpContext.RequestAborted;
        using var buffer = new MemoryStream(request.ContentLength is { } length && length <= limit ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancel)) > 0)
        {
            total += read;
            if (total <= limit)
            {
                buffer.Write(chunk, 0, read);
            }
        }

        if (total > limit)
        {
            throw TooLarge(total, limit);
        }

        return ResourceSerializer.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), format);
    }

    /// <summary>How far past the limit a body is still drained (and answered 413) rather than cut off.</summary>
    private const long DrainAllowance = 1024 * 1024;

    /// <summary>The version an If-Match header names (<c>W/"3"</c> or <c>"3"</c>), or null without the header.</summary>
    public static int? IfMatchVersion(HttpRequest request) => ETags.ParseOptional(request.Headers.IfMatch.ToString(), "If-Match");

    /// <summary>The Prefer header's return preference (R4 http.html#ops).</summary>
    public static ReturnPreference Return(HttpRequest request)
    {
        foreach (var part in PreferParts(request))
        {
            switch (part)
            {
                case "return=minimal": return ReturnPreference.Minimal;
                case "return=representation": return ReturnPreference.Representation;
                case "return=operationoutcome": return ReturnPreference.OperationOutcome;
            }
        }

        return ReturnPreference.Representation;
    }

    /// <summary>Prefer: handling=strict makes unknown search parameters an error; lenient (default) ignores them.</summary>
    public static bool StrictHandling(HttpRequest request) => PreferParts(request).Contains("handling=strict");

    private static IEnumerable<string> PreferParts(HttpRequest request) =>
        request.Headers["Prefer"].SelectMany(v => (v ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(p => p.Replace(" ", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal).ToLowerInvariant());

    private static FhirException TooLarge(long size, long limit) =>
        new(System.Net.HttpStatusCode.RequestEntityTooLarge, Outcomes.Error(OperationOutcome.IssueType.TooCostly,
            $"The request body ({size} bytes) exceeds this server's limit of {limit} bytes."));
}

internal enum ReturnPreference
{
    Representation,
    Minimal,
    OperationOutcome,
}
