using System.Net;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Audit;

/// <summary>
/// The audit trail is append-only and written by the server alone: no client creates, changes or deletes an
/// AuditEvent, and only the admin role reads or searches them.
/// </summary>
internal static class AuditAccess
{
    public const string AuditEventType = "AuditEvent";

    public static void RefuseWrite(string resourceType)
    {
        if (resourceType == AuditEventType)
        {
            throw new FhirException(HttpStatusCode.MethodNotAllowed, Outcomes.Error(OperationOutcome.IssueType.NotSupported,
                "AuditEvents are written by the gateway itself and are append-only: they cannot be created, changed or deleted through the API."));
        }
    }

    public static void RequireReader(HttpContext context, string resourceType)
    {
        if (resourceType == AuditEventType)
        {
            RequireReader(context.RequireGatewayPrincipal(), resourceType);
        }
    }

    public static void RequireReader(GatewayPrincipal principal, string resourceType)
    {
        if (resourceType == AuditEventType && principal.Role != ClientRole.Admin)
        {
            throw new FhirException(HttpStatusCode.Forbidden, Outcomes.Error(OperationOutcome.IssueType.Forbidden,
                "Only the admin role may read the audit trail."));
        }
    }
}
