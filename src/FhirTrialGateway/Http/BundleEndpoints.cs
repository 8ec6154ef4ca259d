using FhirTrialGateway.Core.Bundles;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>POST [base]: transaction and batch Bundles.</summary>
internal static class BundleEndpoints
{
    public static void MapBundleEndpoints(this RouteGroupBuilder fhir) => fhir.MapPost("/", Process);

    private static async Task<IResult> Process(HttpContext context, BundleService bundles, BundleLimits limits)
    {
        var body = await FhirRequestContext.ReadResourceAsync(context.Request, limits.MaxRequestBodyBytes);
        if (body is not Bundle bundle)
        {
            throw FhirException.BadRequest($"POST to the base takes a Bundle, not a {body.TypeName}.", "resourceType");
        }

        var includeResources = FhirRequestContext.Return(context.Request) == ReturnPreference.Representation;
        var response = await bundles.ProcessAsync(bundle, FhirRequestContext.BaseUrl(context), includeResources, context.RequestAborted);
        return FhirResponse.Of(StatusCodes.Status200OK, response);
    }
}
