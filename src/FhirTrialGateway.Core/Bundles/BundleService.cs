using System.Net;
using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>
/// POST [base] with a transaction or batch Bundle. A transaction is one unit of work in the store: all entries or
/// none, processed in the order R4 sets (DELETE, POST, PUT, GET), with bundle-local and conditional references
/// resolved. A batch runs every entry as its own unit, so one bad entry never stops the others.
/// </summary>
public sealed class BundleService(IResourceStore store, ResourceService resources, BundleLimits limits, WriteValidator? validator = null,
    AuditSearchIndex? auditIndex = null)
{
    private readonly AuditSearchIndex _auditIndex = auditIndex ?? new AuditSearchIndex(store);

    /// <param name="authorize">Throws (a 403 FhirException) when the caller may not run an entry; called for every
    /// entry before anything of the bundle runs (transaction) or before the entry runs (batch).</param>
    /// <param name="audit">The request's audit trail: a transaction records it in its unit of work; a batch records one
    /// event per written entry, each in that entry's unit.</param>
    /// <param name="site">The caller's site (a hospital client): entries see and write only that site's resources.</param>
    public async Task<Bundle> ProcessAsync(Bundle bundle, string baseUrl, bool includeResources, Action<EntryRequest> authorize,
        CancellationToken cancellationToken, AuditTrail? audit = null, string? site = null)
    {
        if (bundle.Entry.Count > limits.MaxEntries)
        {
            throw new FhirException(HttpStatusCode.RequestEntityTooLarge, Outcomes.Error(OperationOutcome.IssueType.TooCostly,
                $"The bundle has {bundle.Entry.Count} entries; this server takes at most {limits.MaxEntries} (Bundles:MaxEntries)."));
        }

        // A transaction's searches and every conditional reference are resolved inside a unit of work, where AuditEvents
        // still waiting for their index rows cannot be indexed: index them first.
        if (ReadsAuditEventRows(bundle))
        {
            await _auditIndex.CatchUpAsync(cancellationToken);
        }

        return bundle.Type switch
        {
            Bundle.BundleType.Transaction => await TransactionAsync(bundle, baseUrl, includeResources, authorize, audit, site, cancellationToken),
            Bundle.BundleType.Batch => await BatchAsync(bundle, baseUrl, includeResources, authorize, audit, site, cancellationToken),
            _ => throw FhirException.BadRequest(
                $"POST to the base takes a transaction or batch Bundle, not '{bundle.Type?.ToString() ?? "(no type)"}'.", "Bundle.type"),
        };
    }

    private static bool ReadsAuditEventRows(Bundle bundle) =>
        bundle.Entry.Any(entry =>
            (entry.Request?.Url is { } url && IsAuditEventSearch(url))
            || (entry.Resource is not null && ReferenceRewriter.References(entry.Resource).Any(r => r.Reference is { } value && IsAuditEventSearch(value))));

    private static bool IsAuditEventSearch(string url) =>
        url.StartsWith(AuditSearchIndex.AuditEventType, StringComparison.Ordinal)
        && (url.Length == AuditSearchIndex.AuditEventType.Length || url[AuditSearchIndex.AuditEventType.Length] == '?');

    private async Task<Bundle> TransactionAsync(Bundle bundle, string baseUrl, bool includeResources, Action<EntryRequest> authorize,
        AuditTrail? audit, string? site, CancellationToken cancellationToken)
    {
        var entries = bundle.Entry.Select((entry, index) => EntryRequest.Parse(entry, index, baseUrl)).ToList();
        foreach (var entry in entries)
        {
            InEntry(entry, () => authorize(entry));
        }

        RequireDistinctIdentities(entries);
        foreach (var entry in entries.Where(e => e.Resource is not null && e.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT))
        {
            await InEntryAsync(entry, () => WriteValidation.RequireAsync(validator, entry.Resource!, cancellationToken));
        }

        var conditions = entries.ToDictionary(e => e.Index, e => Condition(e));
        var prepared = PreparedCreates.Prepare(entries, site);

        var outcomes = await store.WriteAsync(session =>
        {
            var executor = new EntryExecutor(session, baseUrl, site);
            var results = new EntryOutcome[entries.Count];
            var touched = new Dictionary<string, EntryRequest>(StringComparer.Ordinal);

            foreach (var entry in entries.Where(e => e.Method == Bundle.HTTPVerb.DELETE))
            {
                results[entry.Index] = InEntry(entry, () => executor.Delete(entry, conditions[entry.Index]));
                if (results[entry.Index].Stored is { } deleted)
                {
                    Touch(touched, $"{deleted.ResourceType}/{deleted.Id}", entry);
                }
            }

            // Identities first, so every bundle-local reference can be rewritten before anything is written.
            var writes = entries.Where(e => e.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT)
                .OrderBy(e => e.Method == Bundle.HTTPVerb.POST ? 0 : 1)
                .Select(e => InEntry(e, () => executor.Resolve(e, conditions[e.Index], prepared.AssignedId(e.Index))))
                .ToList();
            var localTargets = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var write in writes)
            {
                var target = $"{write.Entry.ResourceType}/{write.Id}";
                if (write.ExistingMatch is null)
                {
                    Touch(touched, target, write.Entry);
                }

                if (write.Entry.FullUrl is { Length: > 0 } fullUrl)
                {
                    localTargets[fullUrl] = target;
                }
            }

            // Conditional creates that matched: prepared entries pointing at the id they would have had point at the match.
            var redirects = writes.Where(w => w.ExistingMatch is not null && prepared.AssignedId(w.Entry.Index) is not null)
                .ToDictionary(w => $"{w.Entry.ResourceType}/{prepared.AssignedId(w.Entry.Index)}", w => $"{w.Entry.ResourceType}/{w.Id}",
                    StringComparer.Ordinal);
            foreach (var write in writes.Where(w => w.ExistingMatch is null && !prepared.IsPrepared(w.Entry.Index)))
            {
                InEntry(write.Entry, () => executor.RewriteReferences(write.Entry, localTargets));
            }

            foreach (var write in writes)
            {
                var ahead = write.ExistingMatch is null ? prepared.For(write.Entry, redirects) : null;
                results[write.Entry.Index] = InEntry(write.Entry, () => executor.Write(write, conditions[write.Entry.Index], ahead));
            }

            foreach (var entry in entries.Where(e => e.Method == Bundle.HTTPVerb.GET))
            {
                results[entry.Index] = InEntry(entry, () => executor.Get(entry));
            }

            if (audit is not null)
            {
                foreach (var stored in results.Select(r => r.Stored).OfType<StoredResource>())
                {
                    audit.Touched(stored.VersionedReference);
                }

                AuditWriter.Record(session, audit, 200);
            }

            return results;
        }, cancellationToken);

        var response = new Bundle { Type = Bundle.BundleType.TransactionResponse };
        response.Entry.AddRange(outcomes.Select(o => o.ToResponseEntry(baseUrl, includeResources)));
        return response;
    }

    private async Task<Bundle> BatchAsync(Bundle bundle, string baseUrl, bool includeResources, Action<EntryRequest> authorize,
        AuditTrail? audit, string? site, CancellationToken cancellationToken)
    {
        var pending = new Task<EntryOutcome>[bundle.Entry.Count];
        for (var index = 0; index < bundle.Entry.Count; index++)
        {
            // Units are queued in entry order (each checked before the next) and run independently (each its own savepoint).
            (EntryRequest Entry, SearchQuery? Condition) checkedEntry;
            try
            {
                checkedEntry = await CheckBatchEntryAsync(bundle.Entry[index], index, baseUrl, authorize, cancellationToken);
            }
            catch (FhirException error)
            {
                pending[index] = Task.FromException<EntryOutcome>(error);
                continue;
            }

            pending[index] = RunBatchEntryAsync(checkedEntry.Entry, checkedEntry.Condition, baseUrl, audit, site, cancellationToken);
        }

        var response = new Bundle { Type = Bundle.BundleType.BatchResponse };
        foreach (var task in pending)
        {
            EntryOutcome outcome;
            try
            {
                outcome = await task;
            }
            catch (FhirException error)
            {
                outcome = new EntryOutcome((int)error.Status, null, Outcome: error.Outcome);
            }

            response.Entry.Add(outcome.ToResponseEntry(baseUrl, includeResources));
        }

        return response;
    }

    /// <summary>Parses, authorizes and validates one batch entry; a FhirException is that entry's answer.</summary>
    private async Task<(EntryRequest Entry, SearchQuery? Condition)> CheckBatchEntryAsync(Bundle.EntryComponent raw, int index, string baseUrl,
        Action<EntryRequest> authorize, CancellationToken cancellationToken)
    {
        var entry = EntryRequest.Parse(raw, index, baseUrl);
        InEntry(entry, () => authorize(entry));
        var condition = Condition(entry);
        if (entry.Resource is not null && entry.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT)
        {
            await InEntryAsync(entry, () => WriteValidation.RequireAsync(validator, entry.Resource, cancellationToken));
        }

        return (entry, condition);
    }

    private Task<EntryOutcome> RunBatchEntryAsync(EntryRequest entry, SearchQuery? condition, string baseUrl, AuditTrail? audit, string? site,
        CancellationToken cancellationToken)
    {
        if (entry.Method == Bundle.HTTPVerb.GET)
        {
            return ReadForBatchAsync(entry, site, cancellationToken);
        }

        return store.WriteAsync(session =>
        {
            var executor = new EntryExecutor(session, baseUrl, site);
            EntryOutcome outcome;
            if (entry.Method == Bundle.HTTPVerb.DELETE)
            {
                outcome = InEntry(entry, () => executor.Delete(entry, condition));
            }
            else
            {
                var resolved = InEntry(entry, () => executor.Resolve(entry, condition));
                if (resolved.ExistingMatch is null)
                {
                    InEntry(entry, () => executor.RewriteReferences(entry, new Dictionary<string, string>()));
                }

                outcome = InEntry(entry, () => executor.Write(resolved, condition));
            }

            if (audit is not null)
            {
                var part = audit.Part("batch", entry.Method switch
                {
                    Bundle.HTTPVerb.POST => AuditEvent.AuditEventAction.C,
                    Bundle.HTTPVerb.DELETE => AuditEvent.AuditEventAction.D,
                    _ => AuditEvent.AuditEventAction.U,
                });
                part.Touched(outcome.Stored?.VersionedReference ?? $"{entry.ResourceType}/{entry.Id}");
                AuditWriter.Record(session, part, outcome.Status);
                audit.Touched(outcome.Stored?.VersionedReference ?? $"{entry.ResourceType}/{entry.Id}");
            }

            return outcome;
        }, cancellationToken);
    }

    private async Task<EntryOutcome> ReadForBatchAsync(EntryRequest entry, string? site, CancellationToken cancellationToken)
    {
        try
        {
            if (entry.Id is null)
            {
                var request = SearchRequestParser.Parse(entry.ResourceType, SearchRequestParser.ParseQueryString(entry.Query ?? ""),
                    new SearchLimits(), strict: false);
                var page = await resources.SearchAsync(request.Query with { Site = site }, cancellationToken);
                var searchset = new Bundle { Type = Bundle.BundleType.Searchset, Total = page.Total is { } total ? (int)total : null };
                searchset.Entry.AddRange(page.Matches.Select(m => new Bundle.EntryComponent
                {
                    Resource = ResourceSerializer.ParseStored(m.Json!),
                    Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
                }));
                return new EntryOutcome(200, null, searchset);
            }

            var stored = entry.VersionId is null
                ? await resources.ReadAsync(entry.ResourceType, entry.Id, cancellationToken, site)
                : await resources.VReadAsync(entry.ResourceType, entry.Id, entry.VersionId, cancellationToken, site);
            return new EntryOutcome(200, stored);
        }
        catch (FhirException error)
        {
            throw EntryErrors.ForEntry(error, entry);
        }
    }

    private static SearchQuery? Condition(EntryRequest entry)
    {
        try
        {
            return entry switch
            {
                { Method: Bundle.HTTPVerb.POST, Request.IfNoneExist: { Length: > 0 } ifNoneExist } =>
                    SearchRequestParser.ParseCondition(entry.ResourceType, ifNoneExist),
                { Method: Bundle.HTTPVerb.PUT or Bundle.HTTPVerb.DELETE, Query: { } query } =>
                    SearchRequestParser.ParseCondition(entry.ResourceType, query),
                _ => null,
            };
        }
        catch (FhirException error)
        {
            throw EntryErrors.ForEntry(error, entry, entry.Method == Bundle.HTTPVerb.POST ? "request.ifNoneExist" : "request.url");
        }
    }

    private static void RequireDistinctIdentities(List<EntryRequest> entries)
    {
        var seen = new Dictionary<string, EntryRequest>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.IdentityKey is { } key)
            {
                Touch(seen, key, entry);
            }

            if (entry.FullUrl is { Length: > 0 } fullUrl && entry.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT)
            {
                Touch(seen, "fullUrl " + fullUrl, entry);
            }
        }
    }

    private static void Touch(Dictionary<string, EntryRequest> seen, string identity, EntryRequest entry)
    {
        if (seen.TryGetValue(identity, out var earlier))
        {
            throw FhirException.BadRequest(
                $"Entries {earlier.Index} and {entry.Index} both touch {identity}; a transaction may touch each resource once.",
                entry.Expression);
        }

        seen[identity] = entry;
    }

    private static T InEntry<T>(EntryRequest entry, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (FhirException error)
        {
            throw EntryErrors.ForEntry(error, entry);
        }
    }

    private static void InEntry(EntryRequest entry, Action work) => InEntry(entry, () =>
    {
        work();
        return true;
    });

    private static async Task InEntryAsync(EntryRequest entry, Func<ValueTask> work)
    {
        try
        {
            await work();
        }
        catch (FhirException error)
        {
            throw EntryErrors.ForEntry(error, entry);
        }
    }
}
