namespace FhirTrialGateway.Core.Storage;

/// <summary>
/// One stored version of a resource. <see cref="Json"/> is the resource exactly as the server serialized it
/// (FHIR JSON, UTF-8, meta.versionId and meta.lastUpdated included), or null for a delete tombstone.
/// </summary>
public sealed record StoredResource(
    string ResourceType,
    string Id,
    int Version,
    DateTimeOffset LastUpdated,
    VersionMethod Method,
    byte[]? Json,
    long Sequence,
    string? Site = null)
{
    public bool IsDeleted => Method == VersionMethod.Delete;

    public string VersionedReference => $"{ResourceType}/{Id}/_history/{Version}";

    /// <summary>Weak ETag as FHIR uses it: W/"versionId".</summary>
    public string ETag => $"W/\"{Version}\"";
}

/// <summary>How a version came to be (history bundles report it as entry.request.method).</summary>
public enum VersionMethod
{
    Create = 1,
    Update = 2,
    Delete = 3,
}
