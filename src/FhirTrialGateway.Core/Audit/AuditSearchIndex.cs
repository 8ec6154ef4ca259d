using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// Search index rows of AuditEvents, written after the events themselves. Every request's AuditEvent is stored and
/// hash-chained in the unit of work of the request it records, but without its index rows: those (about ten rows in
/// three B-trees each) cost the single writer more than the read the event records (measured with wrk: 9,100 reads/s
/// with them, 22,000/s without). AuditEvents are immutable, so indexing one later from its stored JSON gives exactly
/// the rows the write would have made. This indexes them in audit chain order: everything written before it started
/// ahead of any search that can match an AuditEvent (<see cref="Concerns"/>), and in the background while the gateway
/// has CPU to spare. The store keeps how far indexing got, so a backlog survives a restart.
/// </summary>
public sealed class AuditSearchIndex(IResourceStore store, ILogger<AuditSearchIndex>? logger = null) : IDisposable
{
    public const string AuditEventType = "AuditEvent";

    /// <summary>
    /// AuditEvents per unit of work. Other writes queue behind a chunk: a whole catch-up ran at about 14,000 AuditEvents
    /// per second (parsing and extraction included), so a chunk holds them up for some tens of milliseconds at most.
    /// </summary>
    public const int ChunkSize = 500;

    /// <summary>Another instance of this class over the same store indexed the same AuditEvents first.</summary>
    private const int Overtaken = -1;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>
    /// Whether <paramref name="query"/> reads AuditEvent index rows: a search of AuditEvents, a system-level search
    /// that can return them, or an _include/_revinclude that starts from them. (Including an AuditEvent that another
    /// resource refers to needs only the referring resource's rows.)
    /// </summary>
    public static bool Concerns(SearchQuery query) =>
        query.ResourceType == AuditEventType
        || (query.ResourceType is null && (query.Types.Count == 0 || query.Types.Contains(AuditEventType)))
        || query.Includes.Any(include => include.SourceType == AuditEventType);

    /// <summary>Indexes every AuditEvent stored before this call (and any written meanwhile in the same chunks).</summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var target = (await store.ReadAuditIndexBacklogAsync(0, cancellationToken)).LastLink;
            while (await IndexChunkAsync(target, cancellationToken) != 0)
            {
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Indexes the oldest unindexed AuditEvents, at most one chunk; returns how many (0: none were waiting).</summary>
    public async Task<int> IndexNextChunkAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return Math.Max(0, await IndexChunkAsync(long.MaxValue, cancellationToken));
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>One chunk up to <paramref name="throughLink"/>: how many were indexed, 0 if none were left, or <see cref="Overtaken"/>.</summary>
    private async Task<int> IndexChunkAsync(long throughLink, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var backlog = await store.ReadAuditIndexBacklogAsync(ChunkSize, cancellationToken);
        if (backlog.IndexedThrough >= throughLink || backlog.Next.Count == 0)
        {
            return 0;
        }

        // Parsed and indexed here, outside the writer; the writer only inserts the rows and moves the mark.
        var rows = backlog.Next.Select(audit => (audit.ResourceKey, RowsOf(audit))).ToList();
        var lastLink = backlog.Next[^1].Link;
        // Not cancellable once queued: a chunk is written whole or not at all, and the caller waits for it.
        var written = await store.WriteAsync(session => session.IndexAudits(backlog.IndexedThrough, lastLink, rows), CancellationToken.None);
        return written ? rows.Count : Overtaken;
    }

    /// <summary>
    /// A stored AuditEvent that cannot be read (its bytes were changed in the file) gets no rows: it must not stop
    /// every later one from being indexed. `fhirgw audit verify` reports the change; the log names the link.
    /// </summary>
    private SearchIndexRows RowsOf(UnindexedAudit audit)
    {
        try
        {
            return SearchIndexer.Instance.Extract(ResourceSerializer.ParseStored(audit.Json));
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or Hl7.Fhir.Serialization.DeserializationFailedException or FormatException)
        {
            (logger ?? NullLogger<AuditSearchIndex>.Instance).LogError(
                "The AuditEvent of audit link {AuditLink} cannot be read and is left out of the search index; run `fhirgw audit verify`", audit.Link);
            return SearchIndexRows.Empty;
        }
    }
}
