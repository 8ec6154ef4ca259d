using FhirTrialGateway.Audit;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Rest;

namespace FhirTrialGateway.Http;

/// <summary>The instance- and type-level interactions on resources: create, read, vread, update, delete.</summary>
internal static class ResourceEndpoints
{
    public static void MapResourceEndpoints(this RouteGroupBuilder fhir)
    {
        fhir.MapPost("/{type}", Create);
        fhir.MapPut("/{type}", ConditionalUpdate);
        fhir.MapGet("/{type}/{id}", Read);
        fhir.MapPut("/{type}/{id}", Update);
        fhir.MapDelete("/{type}/{id}", Delete);
        fhir.MapGet("/{type}/{id}/_history/{versionId}", VRead);
    }

    private static async Task<IResult> Create(string type, HttpContext context, ResourceService service)
    {
        FhirModel.RequireResourceType(type);
        var request = context.Request;
        var ifNoneExist = request.Headers["If-None-Exist"].ToString();
        AuditAccess.RefuseWrite(type);
        ScopeAuthorization.Require(context, type, string.IsNullOrWhiteSpace(ifNoneExist) ? Interaction.Create : Interaction.Create | Interaction.Search);
        var resource = await FhirRequestContext.ReadResourceAsync(request);
        var condition = string.IsNullOrWhiteSpace(ifNoneExist) ? null : SearchRequestParser.ParseCondition(type, ifNoneExist);
        var result = await service.CreateAsync(type, resource, condition, context.RequestAborted, AuditMiddleware.Of(context), context.DataSite());
        return WriteAnswer(context, result);
    }

    private static async Task<IResult> Update(string type, string id, HttpContext context, ResourceService service)
    {
        FhirModel.RequireResourceType(type);
        AuditAccess.RefuseWrite(type);
        ScopeAuthorization.Require(context, type, Interaction.Update);
        var resource = await FhirRequestContext.ReadResourceAsync(context.Request);
        var result = await service.UpdateAsync(type, id, resource, FhirRequestContext.IfMatchVersion(context.Request), context.RequestAborted,
            AuditMiddleware.Of(context), context.DataSite());
        return WriteAnswer(context, result);
    }

    private static async Task<IResult> ConditionalUpdate(string type, HttpContext context, ResourceService service)
    {
        FhirModel.RequireResourceType(type);
        var request = context.Request;
        if (!request.QueryString.HasValue)
        {
            throw FhirException.BadRequest($"PUT {type} needs search parameters (conditional update) or an id in the URL.");
        }

        AuditAccess.RefuseWrite(type);
        ScopeAuthorization.Require(context, type, Interaction.Update | Interaction.Search);
        var condition = SearchRequestParser.ParseCondition(type, request.QueryString.Value!);
        var resource = await FhirRequestContext.ReadResourceAsync(request);
        var result = await service.ConditionalUpdateAsync(type, resource, condition, FhirRequestContext.IfMatchVersion(request),
            context.RequestAborted, AuditMiddleware.Of(context), context.DataSite());
        return WriteAnswer(context, result);
    }

    private static async Task<IResult> Read(string type, string id, HttpContext context, ResourceService service)
    {
        RequireRead(context, type);
        var stored = await service.ReadAsync(type, id, context.RequestAborted, context.DataSite());
        AuditMiddleware.Of(context)?.Touched(stored.VersionedReference);
        return NotModified(context, stored) ?? FhirResponse.Resource(StatusCodes.Status200OK, stored,
            summary: Summary(context), elements: Elements(context));
    }

    private static async Task<IResult> VRead(string type, string id, string versionId, HttpContext context, ResourceService service)
    {
        RequireRead(context, type);
        var stored = await service.VReadAsync(type, id, versionId, context.RequestAborted, context.DataSite());
        AuditMiddleware.Of(context)?.Touched(stored.VersionedReference);
        return NotModified(context, stored) ?? FhirResponse.Resource(StatusCodes.Status200OK, stored,
            summary: Summary(context), elements: Elements(context));
    }

    private static async Task<IResult> Delete(string type, string id, HttpContext context, ResourceService service)
    {
        FhirModel.RequireResourceType(type);
        AuditAccess.RefuseWrite(type);
        ScopeAuthorization.Require(context, type, Interaction.Delete);
        var tombstone = await service.DeleteAsync(type, id, FhirRequestContext.IfMatchVersion(context.Request), context.RequestAborted,
            AuditMiddleware.Of(context), context.DataSite());
        if (FhirRequestContext.Return(context.Request) == ReturnPreference.OperationOutcome)
        {
            var message = tombstone is null ? $"{type}/{id} did not exist; nothing to delete." : $"{type}/{id} is deleted.";
            return FhirResponse.Of(StatusCodes.Status200OK, Outcomes.Information(message), tombstone);
        }

        return FhirResponse.Headers(StatusCodes.Status204NoContent, tombstone);
    }

    private static void RequireRead(HttpContext context, string type)
    {
        FhirModel.RequireResourceType(type);
        AuditAccess.RequireReader(context, type);
        ScopeAuthorization.Require(context, type, Interaction.Read);
    }

    /// <summary>201 with Location for a new resource, 200 otherwise; the body as the Prefer header asks.</summary>
    private static FhirResponse WriteAnswer(HttpContext context, WriteResult result)
    {
        var stored = result.Stored;
        var status = result.Kind == WriteKind.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        var location = $"{FhirRequestContext.BaseUrl(context)}/{stored.VersionedReference}";
        return FhirRequestContext.Return(context.Request) switch
        {
            ReturnPreference.Minimal => FhirResponse.Headers(status, stored, location),
            ReturnPreference.OperationOutcome => FhirResponse.Of(status, Outcomes.Information(
                $"{stored.ResourceType}/{stored.Id} {(result.Kind == WriteKind.Unchanged ? "is unchanged at" : "written as")} version {stored.Version}."),
                stored, location),
            _ => FhirResponse.Resource(status, stored, location),
        };
    }

    /// <summary>If-None-Match with the current ETag: 304 and no body.</summary>
    private static FhirResponse? NotModified(HttpContext context, StoredResource stored)
    {
        var ifNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
        if (string.IsNullOrEmpty(ifNoneMatch))
        {
            return null;
        }

        return ETags.ParseVersion(ifNoneMatch, "If-None-Match") == stored.Version
            ? FhirResponse.Headers(StatusCodes.Status304NotModified, stored)
            : null;
    }

    internal static SummaryType Summary(HttpContext context) =>
        context.Request.Query.TryGetValue("_summary", out var value)
            ? value.ToString() switch
            {
                "true" => SummaryType.True,
                "text" => SummaryType.Text,
                "data" => SummaryType.Data,
                "false" => SummaryType.False,
                var other => throw FhirException.BadRequest($"_summary must be true, false, data or text on a read, not '{other}'.", "_summary"),
            }
            : SummaryType.False;

    internal static string[]? Elements(HttpContext context) =>
        context.Request.Query.TryGetValue("_elements", out var value)
            ? value.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null;
}
