using FhirTrialGateway.Core.Search;

namespace FhirTrialGateway.Core.Storage;

/// <summary>
/// The storage seam: everything the FHIR layer needs from a database, and nothing of FHIR semantics.
/// Reads run concurrently. Writes are units of work run by <see cref="WriteAsync{T}"/>: the store runs each one
/// atomically, serialised against every other write that could conflict with it, and completes the returned task
/// only after the change is durably committed. Conditional interactions check and write inside one unit,
/// which is what makes them race-free.
/// </summary>
public interface IResourceStore
{
    Task<StoredResource?> ReadCurrentAsync(string resourceType, string id, CancellationToken cancellationToken);

    Task<StoredResource?> ReadVersionAsync(string resourceType, string id, int version, CancellationToken cancellationToken);

    Task<HistoryPage> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken);

    Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> as one atomic unit. If it throws, nothing it wrote is kept and the exception is
    /// rethrown to the caller; otherwise its result is returned once the commit is durable.
    /// </summary>
    Task<T> WriteAsync<T>(Func<IWriteSession, T> work, CancellationToken cancellationToken);
}

/// <summary>What a unit of work may do inside a write transaction.</summary>
public interface IWriteSession
{
    /// <summary>The commit clock: UTC, millisecond precision, never earlier than any version already written.</summary>
    DateTimeOffset Now { get; }

    /// <summary>The current version (possibly a tombstone) or null if the resource never existed.</summary>
    StoredResource? ReadCurrent(string resourceType, string id);

    /// <summary>Ids of current, non-deleted resources that match; at most <paramref name="limit"/>.</summary>
    IReadOnlyList<string> FindIds(SearchQuery query, int limit);

    /// <summary>Appends a new version and makes it current; replaces the resource's index rows. Returns its sequence number.</summary>
    long Append(NewVersion version);
}

/// <summary>A version to append. <see cref="Json"/> is null for a delete.</summary>
public sealed record NewVersion(
    string ResourceType,
    string Id,
    int Version,
    DateTimeOffset LastUpdated,
    VersionMethod Method,
    byte[]? Json,
    IReadOnlyList<TokenIndexEntry> Tokens);

/// <summary>One row of the token index: a search parameter name with an optional system and a code.</summary>
public readonly record struct TokenIndexEntry(string Parameter, string? System, string Code);

public sealed record HistoryQuery(
    string? ResourceType,
    string? Id,
    DateTimeOffset? Since,
    int Count,
    long? BeforeSequence);

/// <summary>Newest first. <see cref="NextBeforeSequence"/> is the cursor of the next page, or null at the end.</summary>
public sealed record HistoryPage(IReadOnlyList<StoredResource> Versions, long? NextBeforeSequence, long? Total);
