using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Resources;

/// <summary>
/// The FHIR RESTful interactions on single resources: read, vread, create, update, delete and their conditional
/// forms. It checks what can be checked before touching the store (type, id, body), extracts index rows outside
/// the write path, and runs each write as one unit of work in the store.
/// </summary>
public sealed class ResourceService(IResourceStore store, WriteValidator? validator = null, AuditSearchIndex? auditIndex = null)
{
    private readonly SearchIndexer _indexer = SearchIndexer.Instance;
    private readonly AuditSearchIndex _auditIndex = auditIndex ?? new AuditSearchIndex(store);

    /// <param name="site">The caller's site (a hospital client); another site's resources answer 404.</param>
    public async Task<StoredResource> ReadAsync(string resourceType, string id, CancellationToken cancellationToken, string? site = null)
    {
        FhirModel.RequireResourceType(resourceType);
        FhirModel.RequireValidId(id);
        var stored = await store.ReadCurrentAsync(resourceType, id, cancellationToken);
        if (stored is null || !Sites.Visible(site, stored.Site))
        {
            throw FhirException.NotFound($"{resourceType}/{id} is not known.");
        }

        if (stored.IsDeleted)
        {
            throw FhirException.Gone($"{resourceType}/{id} was deleted (version {stored.Version}).");
        }

        return stored;
    }

    public async Task<StoredResource> VReadAsync(string resourceType, string id, string versionId, CancellationToken cancellationToken,
        string? site = null)
    {
        FhirModel.RequireResourceType(resourceType);
        FhirModel.RequireValidId(id);
        if (!int.TryParse(versionId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            || version < 1)
        {
            throw FhirException.NotFound($"{resourceType}/{id} has no version '{versionId}'; versions are positive integers.");
        }

        var stored = await store.ReadVersionAsync(resourceType, id, version, cancellationToken);
        if (stored is null || !Sites.Visible(site, stored.Site))
        {
            throw FhirException.NotFound($"{resourceType}/{id}/_history/{versionId} is not known.");
        }

        if (stored.IsDeleted)
        {
            throw FhirException.Gone($"Version {version} of {resourceType}/{id} is its deletion.");
        }

        return stored;
    }

    public async Task<WriteResult> CreateAsync(string resourceType, Resource resource, SearchQuery? ifNoneExist,
        CancellationToken cancellationToken, AuditTrail? audit = null, string? site = null)
    {
        RequireBodyType(resourceType, resource);
        await WriteValidation.RequireAsync(validator, resource, cancellationToken);
        StampSite(resource, site);
        var tokens = _indexer.Extract(resource);
        var json = PreparedJson.Of(resource, ResourceWriter.NewId()); // serialized here, not on the writer thread
        return await (ifNoneExist is null
            ? store.WriteAsync(session => Audited(session, audit, ResourceWriter.Create(session, resource, tokens, site: site, json: json)), cancellationToken)
            : store.WriteAsync(session => Audited(session, audit, ResourceWriter.ConditionalCreate(session, resource, tokens, ifNoneExist, site, json)),
                cancellationToken));
    }

    public async Task<WriteResult> UpdateAsync(string resourceType, string id, Resource resource, int? ifMatchVersion,
        CancellationToken cancellationToken, AuditTrail? audit = null, string? site = null)
    {
        RequireBodyType(resourceType, resource);
        FhirModel.RequireValidId(id);
        if (string.IsNullOrEmpty(resource.Id))
        {
            throw FhirException.BadRequest($"An update must carry the id in the body; expected '{id}'.", $"{resourceType}.id",
                OperationOutcome.IssueType.Required);
        }

        if (resource.Id != id)
        {
            throw FhirException.BadRequest($"The id in the body ('{resource.Id}') does not match the id in the URL ('{id}').",
                $"{resourceType}.id");
        }

        await WriteValidation.RequireAsync(validator, resource, cancellationToken);
        StampSite(resource, site);
        var tokens = _indexer.Extract(resource);
        return await store.WriteAsync(session => Audited(session, audit, ResourceWriter.Update(session, resource, id, tokens, ifMatchVersion, site)),
            cancellationToken);
    }

    public async Task<WriteResult> ConditionalUpdateAsync(string resourceType, Resource resource, SearchQuery condition,
        int? ifMatchVersion, CancellationToken cancellationToken, AuditTrail? audit = null, string? site = null)
    {
        RequireBodyType(resourceType, resource);
        if (resource.Id is { Length: > 0 } bodyId)
        {
            FhirModel.RequireValidId(bodyId, $"{resourceType}.id");
        }

        await WriteValidation.RequireAsync(validator, resource, cancellationToken);
        StampSite(resource, site);
        var tokens = _indexer.Extract(resource);
        return await store.WriteAsync(session => Audited(session, audit, ResourceWriter.ConditionalUpdate(session, resource, tokens, condition, ifMatchVersion, site)),
            cancellationToken);
    }

    public Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion, CancellationToken cancellationToken,
        AuditTrail? audit = null, string? site = null)
    {
        FhirModel.RequireResourceType(resourceType);
        FhirModel.RequireValidId(id);
        return store.WriteAsync(session =>
        {
            var tombstone = ResourceWriter.Delete(session, resourceType, id, ifMatchVersion, site);
            if (audit is not null)
            {
                audit.Touched(tombstone?.VersionedReference ?? $"{resourceType}/{id}");
                AuditWriter.Record(session, audit, 204);
            }

            return tombstone;
        }, cancellationToken);
    }

    /// <summary>A hospital's writes carry its site tag, set before index extraction so that _tag finds it.</summary>
    private static void StampSite(Resource resource, string? site)
    {
        if (site is not null)
        {
            Sites.Stamp(resource, site);
        }
    }

    /// <summary>Writes the request's AuditEvent in the same unit of work as the change it records.</summary>
    private static WriteResult Audited(IWriteSession session, AuditTrail? audit, WriteResult result)
    {
        if (audit is not null)
        {
            audit.Touched(result.Stored.VersionedReference);
            AuditWriter.Record(session, audit, result.Kind == WriteKind.Created ? 201 : 200);
        }

        return result;
    }

    public async Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        if (query.ResourceType is not null)
        {
            FhirModel.RequireResourceType(query.ResourceType);
        }

        if (query.Id is not null)
        {
            FhirModel.RequireValidId(query.Id);
            if (await store.ReadCurrentAsync(query.ResourceType!, query.Id, cancellationToken) is not { } current
                || !Sites.Visible(query.Site, current.Site))
            {
                throw FhirException.NotFound($"{query.ResourceType}/{query.Id} is not known.");
            }
        }

        return await store.ReadHistoryAsync(query, cancellationToken);
    }

    /// <summary>A search sees every AuditEvent written before it began: their index rows are written first if need be.</summary>
    public async Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        if (AuditSearchIndex.Concerns(query))
        {
            await _auditIndex.CatchUpAsync(cancellationToken);
        }

        return await store.SearchAsync(query, cancellationToken);
    }

    private static void RequireBodyType(string resourceType, Resource resource)
    {
        FhirModel.RequireResourceType(resourceType);
        if (resource.TypeName != resourceType)
        {
            throw FhirException.BadRequest(
                $"The body is a {resource.TypeName} but the URL addresses {resourceType}.", "resourceType");
        }
    }
}
