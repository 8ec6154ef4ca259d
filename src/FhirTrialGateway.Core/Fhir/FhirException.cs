using System.Net;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Fhir;

/// <summary>
/// A protocol failure (404, 409, 410, 412, 400 ...) carrying the OperationOutcome the client receives.
/// Thrown anywhere below the HTTP layer and turned into a response in exactly one place.
/// </summary>
public sealed class FhirException : Exception
{
    public FhirException(HttpStatusCode status, OperationOutcome outcome)
        : base(outcome.Issue.FirstOrDefault()?.Diagnostics ?? status.ToString())
    {
        Status = status;
        Outcome = outcome;
    }

    public HttpStatusCode Status { get; }

    public OperationOutcome Outcome { get; }

    public static FhirException BadRequest(string diagnostics, string? expression = null,
        OperationOutcome.IssueType code = OperationOutcome.IssueType.Invalid) =>
        new(HttpStatusCode.BadRequest, Outcomes.Error(code, diagnostics, expression));

    public static FhirException NotFound(string diagnostics) =>
        new(HttpStatusCode.NotFound, Outcomes.Error(OperationOutcome.IssueType.NotFound, diagnostics));

    public static FhirException Gone(string diagnostics) =>
        new(HttpStatusCode.Gone, Outcomes.Error(OperationOutcome.IssueType.Deleted, diagnostics));

    public static FhirException PreconditionFailed(string diagnostics) =>
        new(HttpStatusCode.PreconditionFailed, Outcomes.Error(OperationOutcome.IssueType.Conflict, diagnostics));

    public static FhirException Conflict(string diagnostics) =>
        new(HttpStatusCode.Conflict, Outcomes.Error(OperationOutcome.IssueType.Conflict, diagnostics));
}
