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
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }
        if (request.ContentLength > limit)
        {
            throw TooLarge(request.ContentLength.Value, limit);
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        if (buffer.Length > limit)
        {
            throw TooLarge(buffer.Length, limit);
        }

        return ResourceSerializer.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), format);
    }

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
