using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>
/// The part of a transaction's creates that needs no database, done before the transaction reaches the single
/// writer (which would otherwise do it serially for every entry): each POST entry gets its id in advance, and where
/// all of an entry's references point at other entries with known ids, they are rewritten and its search index rows
/// extracted here. Inside the writer only a conditional create that finds an existing resource changes this: the
/// prepared entries that refer to it are redirected there and their rows extracted again.
/// </summary>
public sealed class PreparedCreates
{
    private readonly Dictionary<int, string> _ids = [];
    private readonly Dictionary<int, PreparedEntry> _entries = [];

    private PreparedCreates()
    {
    }

    public static PreparedCreates Prepare(IReadOnlyList<EntryRequest> entries, string? site)
    {
        var prepared = new PreparedCreates();
        var fullUrls = entries.Where(e => !string.IsNullOrEmpty(e.FullUrl)).Select(e => e.FullUrl!).ToList();
        if (fullUrls.Count != fullUrls.Distinct(StringComparer.Ordinal).Count())
        {
            return prepared; // which entry a shared fullUrl means is the writer's rule; leave it all to the writer
        }

        // Targets every reference can take without a lookup; any other fullUrl of the bundle needs the writer.
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        var needWriter = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry is { Method: Bundle.HTTPVerb.POST, Resource: not null })
            {
                var id = ResourceWriter.NewId();
                prepared._ids[entry.Index] = id;
                AddTarget(entry, $"{entry.ResourceType}/{id}");
            }
            else if (entry is { Method: Bundle.HTTPVerb.PUT, Query: null, Id: { } putId })
            {
                AddTarget(entry, $"{entry.ResourceType}/{putId}");
            }
            else if (!string.IsNullOrEmpty(entry.FullUrl))
            {
                needWriter.Add(entry.FullUrl);
            }
        }

        foreach (var entry in entries.Where(e => prepared._ids.ContainsKey(e.Index)))
        {
            var references = ReferenceRewriter.References(entry.Resource!).ToList();
            if (references.Any(r => r.Reference is { } value && !targets.ContainsKey(value) && NeedsWriter(value, needWriter)))
            {
                continue; // unknown bundle-local or conditional references: the writer resolves (or reports) them
            }

            foreach (var reference in references)
            {
                if (reference.Reference is { } value && targets.TryGetValue(value, out var target))
                {
                    reference.Reference = target;
                }
            }

            if (site is not null)
            {
                Sites.Stamp(entry.Resource!, site);
            }

            prepared._entries[entry.Index] = new PreparedEntry(
                SearchIndexer.Instance.Extract(entry.Resource!), PreparedJson.Of(entry.Resource!, prepared._ids[entry.Index]));
        }

        return prepared;

        void AddTarget(EntryRequest entry, string target)
        {
            if (!string.IsNullOrEmpty(entry.FullUrl))
            {
                targets[entry.FullUrl] = target;
            }
        }
    }

    /// <summary>The id a POST entry gets if it is created (a conditional create that matches keeps the match's id).</summary>
    public string? AssignedId(int entryIndex) => _ids.GetValueOrDefault(entryIndex);

    /// <summary>
    /// What the entry got in advance when its references are already rewritten; null when the writer must rewrite them.
    /// <paramref name="redirects"/> maps the targets of conditional creates that matched an existing resource to it;
    /// an entry redirected here is indexed again and loses its JSON (serialized before the rewrite).
    /// </summary>
    public PreparedEntry? For(EntryRequest entry, IReadOnlyDictionary<string, string> redirects)
    {
        if (!_entries.TryGetValue(entry.Index, out var prepared))
        {
            return null;
        }

        return redirects.Count > 0 && ReferenceRewriter.Rewrite(entry.Resource!, redirects) > 0
            ? new PreparedEntry(SearchIndexer.Instance.Extract(entry.Resource!), null)
            : prepared;
    }

    public bool IsPrepared(int entryIndex) => _entries.ContainsKey(entryIndex);

    private static bool NeedsWriter(string reference, HashSet<string> needWriter) =>
        needWriter.Contains(reference)
        || reference.StartsWith("urn:uuid:", StringComparison.Ordinal)
        || reference.StartsWith("urn:oid:", StringComparison.Ordinal)
        || (reference.Contains('?', StringComparison.Ordinal) && !reference.StartsWith('#'));
}

/// <summary>A POST entry's search index rows and (unless its placeholder was ambiguous) its JSON, made before the writer.</summary>
public sealed record PreparedEntry(SearchIndexRows Rows, PreparedJson? Json);
