using System.Net;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Http;

/// <summary>
/// The one place where failures become HTTP answers: every 4xx/5xx leaves as an OperationOutcome in the
/// negotiated format. Protocol failures arrive as <see cref="FhirException"/>; others are mapped here.
/// </summary>
internal sealed class FhirErrorHandling(RequestDelegate next, ILogger<FhirErrorHandling> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            var (status, outcome) = Translate(ex);
            if ((int)status >= 500)
            {
                logger.LogError(ex, "Request failed with {StatusCode}", (int)status);
            }

            await WriteOutcomeAsync(context, (int)status, outcome);
        }
    }

    /// <summary>Turns a bodiless error status (unmatched route 404, 405, 401 from auth) into an OperationOutcome.</summary>
    public static Task WriteStatusOutcomeAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var request = context.Request;
        var (code, message) = status switch
        {
            404 => (OperationOutcome.IssueType.NotFound, $"Nothing is served at {request.Method} {request.Path}."),
            405 => (OperationOutcome.IssueType.NotSupported, $"{request.Method} is not supported on {request.Path}."),
            401 => (OperationOutcome.IssueType.Login, "Authentication is required: send a bearer token."),
            403 => (OperationOutcome.IssueType.Forbidden, "The token does not allow this interaction."),
            413 => (OperationOutcome.IssueType.TooCostly, "The request body exceeds this server's limit."),
            415 => (OperationOutcome.IssueType.NotSupported, "Unsupported media type."),
            _ => (OperationOutcome.IssueType.Exception, $"The request failed with status {status}."),
        };
        return WriteOutcomeAsync(context, status, Outcomes.Error(code, message));
    }

    private static (HttpStatusCode Status, OperationOutcome Outcome) Translate(Exception ex) => ex switch
    {
        FhirException fhir => (fhir.Status, fhir.Outcome),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (HttpStatusCode.RequestEntityTooLarge,
            Outcomes.Error(OperationOutcome.IssueType.TooCostly, "The request body exceeds this server's size limit.")),
        BadHttpRequestException bad => ((HttpStatusCode)bad.StatusCode, Outcomes.Error(OperationOutcome.IssueType.Invalid, bad.Message)),
        StoreUnavailableException or ObjectDisposedException => (HttpStatusCode.ServiceUnavailable,
            Outcomes.Error(OperationOutcome.IssueType.Transient, "The store could not commit the change; nothing was stored. Retry later.")),
        _ => (HttpStatusCode.InternalServerError,
            Outcomes.Error(OperationOutcome.IssueType.Exception, $"Internal error ({ex.GetType().Name}); the server log has the details.")),
    };

    private static async Task WriteOutcomeAsync(HttpContext context, int status, OperationOutcome outcome)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = status;
        var format = FhirMediaTypes.ResponseFormatOrJson(context.Request);
        var bytes = ResourceSerializer.Serialize(outcome, format, FhirMediaTypes.IsPretty(context.Request));
        response.ContentType = FhirMediaTypes.ContentType(format);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
