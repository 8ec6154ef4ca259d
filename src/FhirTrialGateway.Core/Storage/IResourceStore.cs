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

    /// <summary>
    /// One page of a search, with the resources its <see cref="SearchQuery.Includes"/> pull in, read in one snapshot.
    /// Every clause runs as an indexed query; nothing is filtered in memory.
    /// </summary>
    Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> as one atomic unit. If it throws, nothing it wrote is kept and the exception is
    /// rethrown to the caller; otherwise its result is returned once the commit is durable.
    /// </summary>
    Task<T> WriteAsync<T>(Func<IWriteSession, T> work, CancellationToken cancellationToken);

    /// <summary>
    /// Where AuditEvent indexing stands: the last audit chain link indexed and the oldest AuditEvents after it, in
    /// chain order (at most <paramref name="limit"/>); see <see cref="Audit.AuditSearchIndex"/>.
    /// </summary>
    Task<AuditIndexBacklog> ReadAuditIndexBacklogAsync(int limit, CancellationToken cancellationToken);
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

    /// <summary>Links the audit record stored as version <paramref name="versionSequence"/> into the audit hash chain.</summary>
    void LinkAudit(long versionSequence, byte[] record);

    /// <summary>
    /// Writes the index rows of AuditEvents stored earlier and records that every link up to
    /// <paramref name="throughLink"/> is indexed, but only if the links indexed so far end exactly at
    /// <paramref name="afterLink"/> (so that no AuditEvent is ever indexed twice or skipped); returns false, having
    /// written nothing, if they do not.
    /// </summary>
    bool IndexAudits(long afterLink, long throughLink, IReadOnlyList<(long ResourceKey, SearchIndexRows Rows)> audits);
}

/// <summary>
/// The last audit chain link whose AuditEvent has index rows, the last link there is, and the next AuditEvents that
/// have no index rows yet.
/// </summary>
public sealed record AuditIndexBacklog(long IndexedThrough, long LastLink, IReadOnlyList<UnindexedAudit> Next);

/// <summary>An AuditEvent stored without its index rows: its audit chain link, its resource key and its stored JSON.</summary>
public sealed record UnindexedAudit(long Link, long ResourceKey, byte[] Json);

/// <summary>A version to append. <see cref="Json"/> is null for a delete. <see cref="Index"/> replaces the resource's index rows.</summary>
public sealed record NewVersion(
    string ResourceType,
    string Id,
    int Version,
    DateTimeOffset LastUpdated,
    VersionMethod Method,
    byte[]? Json,
    SearchIndexRows Index,
    string? Site = null);

/// <summary>
/// The search index rows of one resource version, one list per parameter type (one table each in the store).
/// Extracted by <see cref="SearchIndexer"/> before the write, outside the writer's critical path.
/// </summary>
public sealed class SearchIndexRows
{
    public static SearchIndexRows Empty { get; } = new();

    public List<TokenIndexEntry> Tokens { get; } = [];

    public List<StringIndexEntry> Strings { get; } = [];

    public List<DateIndexEntry> Dates { get; } = [];

    public List<NumberIndexEntry> Numbers { get; } = [];

    public List<QuantityIndexEntry> Quantities { get; } = [];

    public List<ReferenceIndexEntry> References { get; } = [];

    public List<UriIndexEntry> Uris { get; } = [];

    public List<CompositeIndexEntry> Composites { get; } = [];

    public int Count => Tokens.Count + Strings.Count + Dates.Count + Numbers.Count + Quantities.Count + References.Count
                        + Uris.Count + Composites.Count;
}

/// <summary>Token row: <c>system|code</c> of a Coding, Identifier, ContactPoint, boolean or code (system null when absent).</summary>
public readonly record struct TokenIndexEntry(string Parameter, string? System, string Code);

/// <summary>String row: the value lower-cased without diacritics (default and :contains) and as written (:exact).</summary>
public readonly record struct StringIndexEntry(string Parameter, string Normalized, string Exact);

/// <summary>Date row: the implicit range of the value as inclusive unix milliseconds (2026-03 is the whole month).</summary>
public readonly record struct DateIndexEntry(string Parameter, long Low, long High);

public readonly record struct NumberIndexEntry(string Parameter, double Value);

/// <summary>Quantity row; <see cref="Code"/> is the coded unit, <see cref="Unit"/> the human unit (|code matches either).</summary>
public readonly record struct QuantityIndexEntry(string Parameter, string? System, string? Code, string? Unit, double Value);

/// <summary>
/// Reference row: a local reference as <see cref="TargetType"/> and id, anything else (absolute URL, canonical, urn)
/// with a null type and the whole URL in <see cref="TargetId"/>.
/// </summary>
public readonly record struct ReferenceIndexEntry(string Parameter, string? TargetType, string TargetId);

public readonly record struct UriIndexEntry(string Parameter, string Uri);

/// <summary>
/// Composite row of a two-part composite whose first part is a token (for example Observation code-value-quantity):
/// the token, then the second part as a token (system/code), a quantity (system/code and value in low=high), a date
/// (low/high in unix ms), a number (low=high) or a normalized string (text).
/// </summary>
public readonly record struct CompositeIndexEntry(
    string Parameter, string? System1, string Code1, string? System2, string? Code2, double? Low2, double? High2, string? Text2);

/// <summary>History to page through; <see cref="Site"/>, when set, keeps only that site's versions.</summary>
public sealed record HistoryQuery(
    string? ResourceType,
    string? Id,
    DateTimeOffset? Since,
    int Count,
    long? BeforeSequence,
    string? Site = null);

/// <summary>Newest first. <see cref="NextBeforeSequence"/> is the cursor of the next page, or null at the end.</summary>
public sealed record HistoryPage(IReadOnlyList<StoredResource> Versions, long? NextBeforeSequence, long? Total);
