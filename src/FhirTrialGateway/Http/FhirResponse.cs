using System.Globalization;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;

using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Http;

/// <summary>
/// Writes a FHIR answer: status, the version headers of a stored resource, and a body in the negotiated format.
/// A stored resource requested as plain JSON is sent as the exact bytes the store holds, without a parse.
/// </summary>
internal sealed class FhirResponse : IResult
{
    private FhirResponse(int status)
    {
        Status = status;
    }

    public int Status { get; }

    public StoredResource? Stored { get; private init; }

    public Base? Body { get; private init; }

    public StoredBundle? Bundle { get; private init; }

    public string? Location { get; private init; }

    public SummaryType Summary { get; private init; }

    public string[]? Elements { get; private init; }

    /// <summary>A stored resource as the body (read, vread, create and update with return=representation).</summary>
    public static FhirResponse Resource(int status, StoredResource stored, string? location = null,
        SummaryType summary = SummaryType.False, string[]? elements = null) =>
        new(status) { Stored = stored, Location = location, Summary = summary, Elements = elements };

    /// <summary>The version headers of a stored resource and no body (return=minimal, delete).</summary>
    public static FhirResponse Headers(int status, StoredResource? stored, string? location = null) =>
        new(status) { Stored = stored, Location = location, WritesStoredBody = false };

    /// <summary>Any FHIR value (a Bundle, an OperationOutcome, the CapabilityStatement) as the body.</summary>
    public static FhirResponse Of(int status, Base body, StoredResource? stored = null, string? location = null,
        SummaryType summary = SummaryType.False, string[]? elements = null) =>
        new(status) { Body = body, Stored = stored, Location = location, Summary = summary, Elements = elements };

    /// <summary>A searchset or history Bundle of stored resources.</summary>
    public static FhirResponse Of(int status, StoredBundle bundle, SummaryType summary = SummaryType.False, string[]? elements = null) =>
        new(status) { Bundle = bundle, Summary = summary, Elements = elements };

    /// <summary>False for answers that carry a stored resource's headers but not its body.</summary>
    public bool WritesStoredBody { get; private init; } = true;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        if (Stored is { } stored)
        {
            response.Headers.ETag = stored.ETag;
            response.Headers.LastModified = stored.LastUpdated.ToString("R", CultureInfo.InvariantCulture);
        }

        if (Location is not null)
        {
            response.Headers.Location = Location;
        }

        var body = Body;
        if (body is null && Bundle is null && (Stored?.Json is null || !WritesStoredBody))
        {
            return;
        }

        var request = httpContext.Request;
        var format = FhirMediaTypes.ResponseFormat(request);
        var pretty = FhirMediaTypes.IsPretty(request);
        response.ContentType = FhirMediaTypes.ContentType(format);
        var asStored = format == FhirFormat.Json && !pretty && Summary == SummaryType.False && Elements is null;
        byte[] bytes;
        if (Bundle is not null && asStored)
        {
            bytes = Bundle.SpliceJson();
        }
        else if (body is null && Bundle is null && asStored)
        {
            bytes = Stored!.Json!;
        }
        else
        {
            body ??= Bundle?.Materialize() ?? ResourceSerializer.ParseStored(Stored!.Json!);
            bytes = ResourceSerializer.Serialize(body, format, pretty, Summary, Elements);
        }

        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, httpContext.RequestAborted);
    }
}
