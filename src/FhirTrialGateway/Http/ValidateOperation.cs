using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>
/// $validate (R4 Resource-validate): POST [type]/$validate with a resource or a Parameters (resource, mode, profile),
/// POST or GET [type]/[id]/$validate, and ?profile=. Always 200 with an OperationOutcome when validation ran.
/// </summary>
internal static class ValidateOperation
{
    public static void MapValidateOperation(this RouteGroupBuilder fhir)
    {
        fhir.MapPost("/{type}/$validate", (string type, HttpContext context, ProfileValidator validator) =>
            ValidateBody(type, null, context, validator));
        fhir.MapPost("/{type}/{id}/$validate", (string type, string id, HttpContext context, ProfileValidator validator) =>
            ValidateBody(type, id, context, validator));
        fhir.MapGet("/{type}/{id}/$validate", ValidateStored);
    }

    private static async Task<IResult> ValidateBody(string type, string? id, HttpContext context, ProfileValidator validator)
    {
        FhirModel.RequireResourceType(type);
        // $validate reads nothing and writes nothing: any permission on the type is enough to ask.
        RequireAnyScope(context, type);
        var body = await FhirRequestContext.ReadResourceAsync(context.Request);
        var profiles = QueryProfiles(context);
        var resource = body;
        string? mode = context.Request.Query["mode"];
        if (body is Parameters parameters && type != "Parameters")
        {
            resource = parameters.GetSingle("resource")?.Resource
                       ?? throw FhirException.BadRequest("The Parameters carry no 'resource' to validate.", "Parameters.parameter", OperationOutcome.IssueType.Required);
            mode = parameters.GetSingleValue<Code>("mode")?.Value ?? mode;
            profiles.AddRange(parameters.Parameter.Where(p => p.Name == "profile").Select(p => p.Value?.ToString()).OfType<string>());
        }

        if (resource.TypeName != type)
        {
            throw FhirException.BadRequest($"The resource to validate is a {resource.TypeName}, not a {type}.", "resourceType");
        }

        if (id is not null && resource.Id is { Length: > 0 } bodyId && bodyId != id)
        {
            throw FhirException.BadRequest($"The resource id '{bodyId}' does not match the URL ('{id}').", $"{type}.id");
        }

        RequireMode(mode);
        return Answer(mode == "delete"
            ? Outcomes.Information("Deletion is allowed: this server has no rules that forbid deleting it.")
            : await ValidateAsync(validator, resource, profiles, context.RequestAborted));
    }

    private static async Task<IResult> ValidateStored(string type, string id, HttpContext context, ResourceService resources,
        ProfileValidator validator)
    {
        FhirModel.RequireResourceType(type);
        ScopeAuthorization.Require(context, type, Interaction.Read);
        var stored = await resources.ReadAsync(type, id, context.RequestAborted, context.DataSite());
        return Answer(await ValidateAsync(validator, ResourceSerializer.ParseStored(stored.Json!), QueryProfiles(context), context.RequestAborted));
    }

    private static async Task<OperationOutcome> ValidateAsync(ProfileValidator validator, Resource resource, List<string> profiles,
        CancellationToken cancellationToken)
    {
        var outcome = await validator.ValidateAsync(resource, profiles.Count == 0 ? null : profiles, cancellationToken);
        if (outcome.Issue.Count == 0)
        {
            outcome.Issue.Add(new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Information,
                Code = OperationOutcome.IssueType.Informational,
                Diagnostics = "No issues: the resource conforms.",
            });
        }

        return outcome;
    }

    private static void RequireAnyScope(HttpContext context, string type)
    {
        var principal = context.RequireGatewayPrincipal();
        if (!new[] { Interaction.Read, Interaction.Create, Interaction.Update }.Any(i => principal.Allows(type, i)))
        {
            throw ScopeAuthorization.Forbidden(principal, type, Interaction.Read);
        }
    }

    private static List<string> QueryProfiles(HttpContext context) =>
        [.. context.Request.Query["profile"].OfType<string>().Where(p => p.Length > 0)];

    private static void RequireMode(string? mode)
    {
        if (mode is not (null or "" or "create" or "update" or "delete" or "profile"))
        {
            throw FhirException.BadRequest($"mode must be create, update, delete or profile, not '{mode}'.", "mode");
        }
    }

    private static FhirResponse Answer(OperationOutcome outcome) => FhirResponse.Of(StatusCodes.Status200OK, outcome);
}
