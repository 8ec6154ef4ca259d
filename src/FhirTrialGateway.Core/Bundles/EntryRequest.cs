using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>
/// One bundle entry's request, checked and taken apart: what interaction on which type, id, version or query.
/// <see cref="Expression"/> is the FHIRPath of the entry, used in every issue about it.
/// </summary>
public sealed record EntryRequest(
    int Index,
    Bundle.HTTPVerb Method,
    string ResourceType,
    string? Id,
    string? VersionId,
    string? Query,
    Resource? Resource,
    string? FullUrl,
    Bundle.RequestComponent Request)
{
    public string Expression => $"Bundle.entry[{Index}]";

    /// <summary>What the entry touches, for the rule that two entries may not touch the same identity.</summary>
    public string? IdentityKey => Method switch
    {
        Bundle.HTTPVerb.GET or Bundle.HTTPVerb.HEAD => null,
        Bundle.HTTPVerb.POST when Request.IfNoneExist is { Length: > 0 } condition => $"{ResourceType}?{condition}",
        Bundle.HTTPVerb.POST => null,
        _ when Query is not null => $"{ResourceType}?{Query}",
        _ => $"{ResourceType}/{Id}",
    };

    /// <summary>Checks the entry and parses request.url (relative, or absolute on this server's base).</summary>
    public static EntryRequest Parse(Bundle.EntryComponent entry, int index, string baseUrl)
    {
        var where = $"Bundle.entry[{index}]";
        var request = entry.Request ?? throw FhirException.BadRequest(
            $"Entry {index} has no request: a {nameof(Bundle.BundleType.Transaction).ToLowerInvariant()} or batch entry needs request.method and request.url.",
            $"{where}.request", OperationOutcome.IssueType.Required);
        var method = request.Method ?? throw FhirException.BadRequest($"Entry {index} has no request.method.", $"{where}.request.method",
            OperationOutcome.IssueType.Required);
        var url = request.Url;
        if (string.IsNullOrWhiteSpace(url))
        {
            throw FhirException.BadRequest($"Entry {index} has no request.url.", $"{where}.request.url", OperationOutcome.IssueType.Required);
        }

        if (url.StartsWith(baseUrl + "/", StringComparison.Ordinal))
        {
            url = url[(baseUrl.Length + 1)..];
        }

        var question = url.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? url : url[..question];
        var query = question < 0 ? null : url[(question + 1)..];
        var segments = path.Trim('/').Split('/');
        var type = segments[0];
        if (!FhirModel.IsResourceType(type))
        {
            throw new FhirException(System.Net.HttpStatusCode.NotFound, Outcomes.Error(OperationOutcome.IssueType.NotFound,
                $"Entry {index}: request.url '{request.Url}' names no R4 resource type.", $"{where}.request.url"));
        }

        string? id = null;
        string? version = null;
        switch (segments.Length)
        {
            case 1:
                break;
            case 2:
                id = segments[1];
                break;
            case 4 when segments[2] == "_history":
                id = segments[1];
                version = segments[3];
                break;
            default:
                throw FhirException.BadRequest($"Entry {index}: request.url '{request.Url}' is not an interaction this server serves in a bundle.",
                    $"{where}.request.url", OperationOutcome.IssueType.NotSupported);
        }

        if (id is not null)
        {
            FhirModel.RequireValidId(id, $"{where}.request.url");
        }

        var parsed = new EntryRequest(index, method, type, id, version, query, entry.Resource, entry.FullUrl, request);
        parsed.CheckShape();
        return parsed;
    }

    private void CheckShape()
    {
        var where = Expression;
        switch (Method)
        {
            case Bundle.HTTPVerb.POST:
                RequireResource();
                if (Id is not null || Query is not null)
                {
                    throw FhirException.BadRequest($"Entry {Index}: POST goes to the type ('{ResourceType}'), not to '{Request.Url}'.",
                        $"{where}.request.url");
                }

                break;
            case Bundle.HTTPVerb.PUT:
                RequireResource();
                if ((Id is null) == (Query is null) || VersionId is not null)
                {
                    throw FhirException.BadRequest($"Entry {Index}: PUT needs '{ResourceType}/[id]' or a conditional '{ResourceType}?[criteria]'.",
                        $"{where}.request.url");
                }

                if (Id is not null && Resource!.Id is { Length: > 0 } bodyId && bodyId != Id)
                {
                    throw FhirException.BadRequest($"Entry {Index}: the resource id '{bodyId}' does not match request.url '{Request.Url}'.",
                        $"{where}.resource.id");
                }

                break;
            case Bundle.HTTPVerb.DELETE:
                if ((Id is null) == (Query is null) || VersionId is not null)
                {
                    throw FhirException.BadRequest($"Entry {Index}: DELETE needs '{ResourceType}/[id]' or a conditional '{ResourceType}?[criteria]'.",
                        $"{where}.request.url");
                }

                break;
            case Bundle.HTTPVerb.GET:
                break;
            default:
                throw FhirException.BadRequest($"Entry {Index}: {Method} is not supported in bundles by this server.",
                    $"{where}.request.method", OperationOutcome.IssueType.NotSupported);
        }
    }

    private void RequireResource()
    {
        if (Resource is null)
        {
            throw FhirException.BadRequest($"Entry {Index}: {Method} needs a resource.", $"{Expression}.resource", OperationOutcome.IssueType.Required);
        }

        if (Resource.TypeName != ResourceType)
        {
            throw FhirException.BadRequest($"Entry {Index}: the resource is a {Resource.TypeName} but request.url addresses {ResourceType}.",
                $"{Expression}.resource");
        }
    }
}
