using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Microsoft.Net.Http.Headers;

namespace FhirTrialGateway.Http;

/// <summary>
/// Content negotiation (R4 http.html#mime-type): the request body's format from Content-Type, the response format
/// from <c>_format</c>, then Accept, then JSON.
/// </summary>
internal static class FhirMediaTypes
{
    public const string Json = "application/fhir+json";
    public const string Xml = "application/fhir+xml";

    private static readonly Dictionary<string, FhirFormat> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [Json] = FhirFormat.Json,
        ["application/json"] = FhirFormat.Json,
        ["application/json+fhir"] = FhirFormat.Json,
        ["json"] = FhirFormat.Json,
        [Xml] = FhirFormat.Xml,
        ["application/xml"] = FhirFormat.Xml,
        ["application/xml+fhir"] = FhirFormat.Xml,
        ["text/xml"] = FhirFormat.Xml,
        ["xml"] = FhirFormat.Xml,
    };

    public static string ContentType(FhirFormat format) => (format == FhirFormat.Json ? Json : Xml) + "; charset=utf-8";

    /// <summary>The format of the request body; 415 when it is missing or not a FHIR format.</summary>
    public static FhirFormat RequestFormat(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrWhiteSpace(contentType))
        {
            throw Unsupported("The request has a body but no Content-Type; send application/fhir+json or application/fhir+xml.");
        }

        if (MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            && parsed.MediaType.Value is { } mediaType && Known.TryGetValue(mediaType, out var format))
        {
            if (parsed.Charset.HasValue && !parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                throw Unsupported($"Only UTF-8 is accepted; the request declares charset {parsed.Charset}.");
            }

            return format;
        }

        throw Unsupported($"Content-Type '{contentType}' is not a FHIR format; send application/fhir+json or application/fhir+xml.");
    }

    /// <summary>The response format; 406 when the client accepts nothing this server writes.</summary>
    public static FhirFormat ResponseFormat(HttpRequest request)
    {
        if (request.Query.TryGetValue("_format", out var formatParameter) && formatParameter.ToString() is { Length: > 0 } wanted)
        {
            var mediaType = wanted.Split(';')[0].Trim();
            return Known.TryGetValue(mediaType, out var format)
                ? format
                : throw NotAcceptable($"_format '{wanted}' is not supported; use json or xml.");
        }

        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return FhirFormat.Json;
        }

        foreach (var range in accept.OrderByDescending(a => a.Quality ?? 1.0))
        {
            if (range.Quality is 0)
            {
                continue;
            }

            var mediaType = range.MediaType.Value ?? "";
            if (Known.TryGetValue(mediaType, out var format))
            {
                return format;
            }

            if (mediaType is "*/*" or "application/*")
            {
                return FhirFormat.Json;
            }

            if (mediaType == "text/*")
            {
                return FhirFormat.Xml;
            }
        }

        throw NotAcceptable($"None of the accepted types ({request.Headers.Accept}) is one this server writes: {Json} or {Xml}.");
    }

    /// <summary>The response format when negotiation itself is what failed: the best guess, never an exception.</summary>
    public static FhirFormat ResponseFormatOrJson(HttpRequest request)
    {
        try
        {
            return ResponseFormat(request);
        }
        catch (FhirException)
        {
            return FhirFormat.Json;
        }
    }

    public static bool IsPretty(HttpRequest request) =>
        request.Query.TryGetValue("_pretty", out var pretty) && string.Equals(pretty, "true", StringComparison.OrdinalIgnoreCase);

    private static FhirException Unsupported(string message) =>
        new(System.Net.HttpStatusCode.UnsupportedMediaType, Outcomes.Error(OperationOutcome.IssueType.NotSupported, message));

    private static FhirException NotAcceptable(string message) =>
        new(System.Net.HttpStatusCode.NotAcceptable, Outcomes.Error(OperationOutcome.IssueType.NotSupported, message));
}
