using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Resources;

/// <summary>
/// The FHIR write semantics (create, update, conditional forms, delete) expressed against one open
/// <see cref="IWriteSession"/>. Everything here runs inside a store transaction, so a single interaction and a
/// whole transaction bundle use the same code, and a check followed by a write cannot race with another writer.
/// </summary>
public static class ResourceWriter
{
    /// <summary>
    /// Creates a new resource with a server-assigned id (any id in the body is replaced, as R4 says). A transaction
    /// passes the id it assigned in advance so that references to the entry can be rewritten before writing.
    /// </summary>
    /// <param name="json">The resource serialized before the writer (<see cref="PreparedJson"/>); its id is the default id.</param>
    public static WriteResult Create(IWriteSession session, Resource resource, SearchIndexRows tokens,
        string? assignedId = null, string? site = null, PreparedJson? json = null)
    {
        var id = assignedId ?? json?.Id ?? NewId();
        var stored = Append(session, resource, id, VersionMethod.Create, previousVersion: 0, tokens, Sites.Of(resource, site),
            json?.Id == id ? json : null);
        return new WriteResult(stored, resource, WriteKind.Created);
    }

    /// <summary>Create unless the <paramref name="condition"/> matches: one match is returned untouched, several are 412.</summary>
    public static WriteResult ConditionalCreate(IWriteSession session, Resource resource, SearchIndexRows tokens,
        SearchQuery condition, string? site = null, PreparedJson? json = null)
    {
        var matches = session.FindIds(condition with { Site = site }, limit: 2);
        switch (matches.Count)
        {
            case 0:
                return Create(session, resource, tokens, site: site, json: json);
            case 1:
                var existing = session.ReadCurrent(resource.TypeName, matches[0])
                               ?? throw new InvalidOperationException("A matched resource has no current version.");
                return new WriteResult(existing, null, WriteKind.Unchanged);
            default:
                throw FhirException.PreconditionFailed(
                    $"The If-None-Exist condition matches more than one {condition.ResourceType}; nothing was created.");
        }
    }

    /// <summary>
    /// Update (or create with a client-chosen id). <paramref name="ifMatchVersion"/> enforces optimistic locking.
    /// An update that changes nothing but meta.versionId/lastUpdated keeps the current version (idempotent retries).
    /// A caller bound to a site finds another site's resource absent (404), so nothing about it leaks.
    /// </summary>
    public static WriteResult Update(IWriteSession session, Resource resource, string id, SearchIndexRows tokens,
        int? ifMatchVersion, string? site = null)
    {
        var current = session.ReadCurrent(resource.TypeName, id);
        if (current is not null && !Sites.Visible(site, current.Site))
        {
            throw FhirException.NotFound($"{resource.TypeName}/{id} is not known.");
        }

        // A resource stays with the site it was created at.
        var owner = current?.Site ?? Sites.Of(resource, site);
        if (owner is not null)
        {
            Sites.Stamp(resource, owner);
        }

        if (ifMatchVersion is { } expected && (current is null || current.IsDeleted || current.Version != expected))
        {
            var actual = current is null || current.IsDeleted ? "it does not exist" : $"the current version is {current.Version}";
            throw FhirException.PreconditionFailed(
                $"If-Match expected version {expected} of {resource.TypeName}/{id}, but {actual}.");
        }

        if (current is { IsDeleted: false, Json: { } currentJson } && IsSameContent(resource, id, current, currentJson))
        {
            return new WriteResult(current, null, WriteKind.Unchanged);
        }

        var kind = current is null || current.IsDeleted ? WriteKind.Created : WriteKind.Updated;
        var method = kind == WriteKind.Created ? VersionMethod.Create : VersionMethod.Update;
        var stored = Append(session, resource, id, method, current?.Version ?? 0, tokens, owner);
        return new WriteResult(stored, resource, kind);
    }

    /// <summary>Conditional update: no match creates, one match updates it, several are 412.</summary>
    public static WriteResult ConditionalUpdate(IWriteSession session, Resource resource, SearchIndexRows tokens,
        SearchQuery condition, int? ifMatchVersion, string? site = null)
    {
        var matches = session.FindIds(condition with { Site = site }, limit: 2);
        switch (matches.Count)
        {
            case 0:
                if (ifMatchVersion is not null)
                {
                    throw FhirException.PreconditionFailed($"If-Match was given but no {condition.ResourceType} matches the condition.");
                }

                return resource.Id is { Length: > 0 } clientId
                    ? Update(session, resource, clientId, tokens, null, site)
                    : Create(session, resource, tokens, site: site);
            case 1:
                if (resource.Id is { Length: > 0 } bodyId && bodyId != matches[0])
                {
                    throw FhirException.BadRequest(
                        $"The body's id '{bodyId}' differs from the id of the matching resource '{matches[0]}'.", $"{resource.TypeName}.id");
                }

                return Update(session, resource, matches[0], tokens, ifMatchVersion, site);
            default:
                throw FhirException.PreconditionFailed(
                    $"The condition matches more than one {condition.ResourceType}; nothing was updated.");
        }
    }

    /// <summary>Deletes by writing a tombstone version. Deleting what is absent or already deleted changes nothing.</summary>
    public static StoredResource? Delete(IWriteSession session, string resourceType, string id, int? ifMatchVersion,
        string? site = null)
    {
        var current = session.ReadCurrent(resourceType, id);
        if (current is not null && !Sites.Visible(site, current.Site))
        {
            current = null; // another site's resource is absent for this caller
        }

        if (ifMatchVersion is { } expected && (current is null || current.IsDeleted || current.Version != expected))
        {
            throw FhirException.PreconditionFailed($"If-Match expected version {expected} of {resourceType}/{id}, which is not current.");
        }

        if (current is null || current.IsDeleted)
        {
            return current;
        }

        var version = new NewVersion(resourceType, id, current.Version + 1, session.Now, VersionMethod.Delete, null, SearchIndexRows.Empty,
            current.Site);
        var sequence = session.Append(version);
        return new StoredResource(resourceType, id, version.Version, version.LastUpdated, VersionMethod.Delete, null, sequence, current.Site);
    }

    private static StoredResource Append(IWriteSession session, Resource resource, string id, VersionMethod method,
        int previousVersion, SearchIndexRows tokens, string? site, PreparedJson? prepared = null)
    {
        var version = previousVersion + 1;
        var now = session.Now;
        byte[] json;
        if (prepared is not null)
        {
            json = prepared.Complete(resource, version, now);
        }
        else
        {
            resource.Id = id;
            resource.Meta ??= new Meta();
            resource.Meta.VersionId = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            resource.Meta.LastUpdated = now;
            json = ResourceSerializer.SerializeJson(resource);
        }

        var sequence = session.Append(new NewVersion(resource.TypeName, id, version, now, method, json, tokens, site));
        return new StoredResource(resource.TypeName, id, version, now, method, json, sequence, site);
    }

    private static bool IsSameContent(Resource resource, string id, StoredResource current, byte[] currentJson)
    {
        resource.Id = id;
        resource.Meta ??= new Meta();
        resource.Meta.VersionId = current.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        resource.Meta.LastUpdated = current.LastUpdated;
        return ResourceSerializer.SerializeJson(resource).AsSpan().SequenceEqual(currentJson);
    }

    /// <summary>Time-ordered (UUID v7) ids keep the store's B-tree inserts local.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("D");
}

public enum WriteKind
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>The stored version a write produced (or found), and the resource as written when it was written.</summary>
public sealed record WriteResult(StoredResource Stored, Resource? Resource, WriteKind Kind);
