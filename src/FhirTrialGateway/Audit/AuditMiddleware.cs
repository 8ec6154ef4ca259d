using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Storage;
using Microsoft.AspNetCore.Routing.Patterns;
using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Audit;

/// <summary>
/// Gives every FHIR API and token request an <see cref="AuditTrail"/>. Writes record their AuditEvent inside the
/// unit of work of the change (ResourceService, BundleService); for every other request (reads, searches, refused
/// and failed requests) the event goes to the <see cref="AuditQueue"/> when the request ends, without waiting for
/// its commit.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditQueue audits)
{
    private static readonly object ItemKey = new();

    public static AuditTrail? Of(HttpContext context) => context.Items.TryGetValue(ItemKey, out var trail) ? trail as AuditTrail : null;

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/fhir") && !path.StartsWithSegments("/auth/token") && !path.StartsWithSegments("/admin"))
        {
            await next(context);
            return;
        }

        var principal = context.GetGatewayPrincipal();
        var trail = new AuditTrail(principal?.ClientId ?? "anonymous", principal?.Site, context.Connection.RemoteIpAddress?.ToString())
        {
            Path = $"{context.Request.Method} {path}",
        };
        context.Items[ItemKey] = trail;
        Classify(context, trail); // routing has run: the endpoint is known before the write records its event
        var status = 500;
        try
        {
            await next(context);
            status = context.Response.StatusCode;
        }
        catch (FhirException error)
        {
            status = (int)error.Status;
            throw;
        }
        finally
        {
            if (!trail.IsCommitted)
            {
                await audits.EnqueueAsync(trail, status);
            }
        }
    }

    /// <summary>The R4 restful-interaction and action from the matched route and the method.</summary>
    private static void Classify(HttpContext context, AuditTrail trail)
    {
        var method = context.Request.Method;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
        (trail.Interaction, trail.Action) = (method, route) switch
        {
            (_, "/auth/token") => ("operation", Hl7.Fhir.Model.AuditEvent.AuditEventAction.E),
            ("GET", "/fhir/metadata") => ("capabilities", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/{type}/{id}") => ("read", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/{type}/{id}/_history/{versionId}") => ("vread", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/{type}/{id}/_history") => ("history-instance", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/{type}/_history") => ("history-type", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/_history") => ("history-system", Hl7.Fhir.Model.AuditEvent.AuditEventAction.R),
            ("GET", "/fhir/{type}") or ("POST", "/fhir/{type}/_search") => ("search-type", Hl7.Fhir.Model.AuditEvent.AuditEventAction.E),
            ("GET", "/fhir/") or ("GET", "/fhir") or ("POST", "/fhir/_search") => ("search-system", Hl7.Fhir.Model.AuditEvent.AuditEventAction.E),
            ("POST", "/fhir/") or ("POST", "/fhir") => ("batch", Hl7.Fhir.Model.AuditEvent.AuditEventAction.E),
            ("POST", "/fhir/{type}") => ("create", Hl7.Fhir.Model.AuditEvent.AuditEventAction.C),
            ("PUT", _) => ("update", Hl7.Fhir.Model.AuditEvent.AuditEventAction.U),
            ("DELETE", _) => ("delete", Hl7.Fhir.Model.AuditEvent.AuditEventAction.D),
            _ => ("operation", Hl7.Fhir.Model.AuditEvent.AuditEventAction.E),
        };
        if (trail.Interaction.StartsWith("search", StringComparison.Ordinal) || trail.Interaction.StartsWith("history", StringComparison.Ordinal))
        {
            trail.Query = context.Request.QueryString.HasValue ? context.Request.QueryString.Value : "";
        }
    }
}
