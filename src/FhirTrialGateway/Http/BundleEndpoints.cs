using FhirTrialGateway.Audit;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Bundles;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>POST [base]: transaction and batch Bundles.</summary>
internal static class BundleEndpoints
{
    public static void MapBundleEndpoints(this RouteGroupBuilder fhir) => fhir.MapPost("/", Process);

    private static async Task<IResult> Process(HttpContext context, BundleService bundles, BundleLimits limits, LargeBundleGate gate)
    {
        using var turn = await gate.EnterAsync(context.Request);
        var body = await FhirRequestContext.ReadResourceAsync(context.Request, limits.MaxRequestBodyBytes);
        if (body is not Bundle bundle)
        {
            throw FhirException.BadRequest($"POST to the base takes a Bundle, not a {body.TypeName}.", "resourceType");
        }

        var includeResources = FhirRequestContext.Return(context.Request) == ReturnPreference.Representation;
        var principal = context.RequireGatewayPrincipal();
        var response = await bundles.ProcessAsync(bundle, FhirRequestContext.BaseUrl(context), includeResources,
            entry =>
            {
                if (entry.Method == Bundle.HTTPVerb.GET)
                {
                    AuditAccess.RequireReader(principal, entry.ResourceType);
                }
                else
                {
                    AuditAccess.RefuseWrite(entry.ResourceType);
                }

                ScopeAuthorization.Require(principal, entry.ResourceType, Needs(entry));
            },
            context.RequestAborted, AuditMiddleware.Of(context), principal.DataSite);
        return FhirResponse.Of(StatusCodes.Status200OK, response);
    }

    /// <summary>The permissions an entry needs; conditional forms also search.</summary>
    private static Interaction Needs(EntryRequest entry)
    {
        var conditional = entry.Query is not null || entry.Request.IfNoneExist is { Length: > 0 };
        var needs = entry.Method switch
        {
            Bundle.HTTPVerb.POST => Interaction.Create,
            Bundle.HTTPVerb.PUT => Interaction.Update,
            Bundle.HTTPVerb.DELETE => Interaction.Delete,
            _ => entry.Id is null ? Interaction.Search : Interaction.Read,
        };
        return conditional && entry.Method != Bundle.HTTPVerb.GET ? needs | Interaction.Search : needs;
    }
}
