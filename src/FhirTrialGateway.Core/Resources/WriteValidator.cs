using System.Net;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Resources;

/// <summary>
/// The check a resource passes before it is written (profile validation, wired in by the host): null when there is
/// nothing to check, else the OperationOutcome. Errors reject the write with 422; warnings never block.
/// A delegate rather than an interface: Core must not know the validator, and tests can pass a lambda.
/// Asynchronous because a request waiting for its turn at the validator must not hold a thread-pool thread.
/// </summary>
public delegate ValueTask<OperationOutcome?> WriteValidator(Resource resource, CancellationToken cancellationToken);

public static class WriteValidation
{
    /// <summary>Throws 422 with the outcome when <paramref name="validator"/> finds errors.</summary>
    public static async ValueTask RequireAsync(WriteValidator? validator, Resource resource, CancellationToken cancellationToken)
    {
        if (validator is not null && await validator(resource, cancellationToken) is { } outcome && outcome.Issue.Any(IsError))
        {
            throw new FhirException(HttpStatusCode.UnprocessableEntity, outcome);
        }
    }

    private static bool IsError(OperationOutcome.IssueComponent issue) =>
        issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal;
}
