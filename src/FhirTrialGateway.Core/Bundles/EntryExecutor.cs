using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>
/// Runs bundle entries inside one write session, in the two steps a transaction needs: first every write entry's
/// identity is resolved (conditions evaluated, ids assigned) so that bundle-local references can be rewritten;
/// then the entries are written. A batch runs both steps per entry.
/// </summary>
internal sealed class EntryExecutor(IWriteSession session, string baseUrl, string? site = null)
{
    private readonly Dictionary<string, List<string>> _conditionalReferenceCache = new(StringComparer.Ordinal);

    /// <summary>The id a POST or PUT entry will write to, or the match that makes it a no-op.</summary>
    public sealed record ResolvedWrite(EntryRequest Entry, string Id, StoredResource? ExistingMatch);

    /// <param name="assignedId">The id a POST entry gets when it is created (assigned before the transaction ran).</param>
    public ResolvedWrite Resolve(EntryRequest entry, SearchQuery? condition, string? assignedId = null)
    {
        switch (entry.Method)
        {
            case Bundle.HTTPVerb.POST when condition is not null:
                var found = Matches(entry, condition, "If-None-Exist");
                return found.Count == 0
                    ? new ResolvedWrite(entry, assignedId ?? ResourceWriter.NewId(), null)
                    : new ResolvedWrite(entry, found[0], session.ReadCurrent(entry.ResourceType, found[0]));
            case Bundle.HTTPVerb.POST:
                return new ResolvedWrite(entry, assignedId ?? ResourceWriter.NewId(), null);
            case Bundle.HTTPVerb.PUT when condition is not null:
                var matches = Matches(entry, condition, "The conditional update");
                if (matches.Count == 1 && entry.Resource!.Id is { Length: > 0 } bodyId && bodyId != matches[0])
                {
                    throw FhirException.BadRequest($"The resource id '{bodyId}' differs from the matching resource '{matches[0]}'.",
                        $"{entry.ResourceType}.id");
                }

                return new ResolvedWrite(entry, matches.Count == 1 ? matches[0] : entry.Resource!.Id is { Length: > 0 } id ? id : ResourceWriter.NewId(), null);
            case Bundle.HTTPVerb.PUT:
                return new ResolvedWrite(entry, entry.Id!, null);
            default:
                throw new InvalidOperationException($"{entry.Method} entries are not resolved.");
        }
    }

    /// <summary>Rewrites bundle-local references and resolves conditional references ("Patient?identifier=...").</summary>
    public void RewriteReferences(EntryRequest entry, IReadOnlyDictionary<string, string> localTargets)
    {
        foreach (var reference in ReferenceRewriter.References(entry.Resource!))
        {
            var value = reference.Reference;
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            if (localTargets.TryGetValue(value, out var target))
            {
                reference.Reference = target;
            }
            else if (value.StartsWith("urn:uuid:", StringComparison.Ordinal) || value.StartsWith("urn:oid:", StringComparison.Ordinal))
            {
                throw FhirException.BadRequest($"The reference '{value}' matches no entry's fullUrl in this bundle.", null,
                    OperationOutcome.IssueType.NotFound);
            }
            else if (value.Contains('?', StringComparison.Ordinal) && !value.StartsWith('#'))
            {
                reference.Reference = ResolveConditionalReference(value);
            }
        }
    }

    /// <param name="prepared">The entry's index rows and JSON made before the transaction ran (references already rewritten).</param>
    public EntryOutcome Write(ResolvedWrite resolved, SearchQuery? condition, PreparedEntry? prepared = null)
    {
        var entry = resolved.Entry;
        var resource = entry.Resource!;
        var ifMatch = ETags.ParseOptional(entry.Request.IfMatch, "ifMatch");
        if (resolved.ExistingMatch is { } match)
        {
            return new EntryOutcome(200, match);
        }

        // A prepared entry was stamped and indexed before the transaction ran.
        if (site is not null && prepared is null)
        {
            Sites.Stamp(resource, site);
        }

        var tokens = prepared?.Rows ?? SearchIndexer.Instance.Extract(resource);
        if (entry.Method == Bundle.HTTPVerb.POST)
        {
            return Outcome(ResourceWriter.Create(session, resource, tokens, resolved.Id, site, prepared?.Json));
        }

        if (entry.Request.IfNoneMatch is { Length: > 0 } ifNoneMatch)
        {
            if (ifNoneMatch.Trim() != "*")
            {
                throw FhirException.BadRequest("ifNoneMatch on a PUT entry supports only '*' (create only if absent).", null);
            }

            if (session.ReadCurrent(entry.ResourceType, resolved.Id) is { IsDeleted: false } existing && Sites.Visible(site, existing.Site))
            {
                throw FhirException.PreconditionFailed($"{entry.ResourceType}/{resolved.Id} exists and ifNoneMatch is '*'.");
            }
        }

        if (condition is not null && ifMatch is not null && session.ReadCurrent(entry.ResourceType, resolved.Id) is null)
        {
            throw FhirException.PreconditionFailed($"ifMatch was given but no {entry.ResourceType} matches the condition.");
        }

        resource.Id = resolved.Id;
        return Outcome(ResourceWriter.Update(session, resource, resolved.Id, tokens, ifMatch, site));
    }

    public EntryOutcome Delete(EntryRequest entry, SearchQuery? condition)
    {
        var ifMatch = ETags.ParseOptional(entry.Request.IfMatch, "ifMatch");
        string? id = entry.Id;
        if (condition is not null)
        {
            var matches = Matches(entry, condition, "The conditional delete");
            if (matches.Count == 0)
            {
                return new EntryOutcome(204, null);
            }

            id = matches[0];
        }

        return new EntryOutcome(204, ResourceWriter.Delete(session, entry.ResourceType, id!, ifMatch, site));
    }

    /// <summary>GET inside a transaction: a read or a search, seeing the transaction's own writes.</summary>
    public EntryOutcome Get(EntryRequest entry)
    {
        if (entry.Id is not null)
        {
            if (entry.VersionId is not null)
            {
                throw FhirException.BadRequest("vread inside a transaction is not supported; use a batch.", null, OperationOutcome.IssueType.NotSupported);
            }

            var current = session.ReadCurrent(entry.ResourceType, entry.Id);
            if (current is null || !Sites.Visible(site, current.Site))
            {
                throw FhirException.NotFound($"{entry.ResourceType}/{entry.Id} is not known.");
            }

            if (current.IsDeleted)
            {
                throw FhirException.Gone($"{entry.ResourceType}/{entry.Id} was deleted.");
            }

            return NotModified(entry, current) ? new EntryOutcome(304, current) : new EntryOutcome(200, current);
        }

        var request = SearchRequestParser.Parse(entry.ResourceType, SearchRequestParser.ParseQueryString(entry.Query ?? ""),
            new SearchLimits(), strict: true);
        var ids = session.FindIds(request.Query with { Site = site }, Math.Max(request.Query.Count, 1));
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Total = ids.Count };
        foreach (var id in ids.Take(request.Query.Count))
        {
            var stored = session.ReadCurrent(entry.ResourceType, id)!;
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{entry.ResourceType}/{id}",
                Resource = ResourceSerializer.ParseStored(stored.Json!),
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        return new EntryOutcome(200, null, bundle);
    }

    private static bool NotModified(EntryRequest entry, StoredResource current)
    {
        if (entry.Request.IfNoneMatch is { Length: > 0 } ifNoneMatch && ETags.ParseVersion(ifNoneMatch, "ifNoneMatch") == current.Version)
        {
            return true;
        }

        return entry.Request.IfModifiedSince is { } since && current.LastUpdated <= since;
    }

    private List<string> Matches(EntryRequest entry, SearchQuery condition, string what)
    {
        var matches = session.FindIds(condition with { Site = site }, limit: 2);
        if (matches.Count > 1)
        {
            throw FhirException.PreconditionFailed($"{what} matches more than one {entry.ResourceType}.");
        }

        return [.. matches];
    }

    private string ResolveConditionalReference(string reference)
    {
        if (!_conditionalReferenceCache.TryGetValue(reference, out var matches))
        {
            var question = reference.IndexOf('?', StringComparison.Ordinal);
            var type = reference[..question];
            if (!FhirModel.IsResourceType(type))
            {
                throw FhirException.BadRequest($"The conditional reference '{reference}' names no R4 resource type.", null);
            }

            matches = [.. session.FindIds(SearchRequestParser.ParseCondition(type, reference[(question + 1)..]) with { Site = site }, limit: 2)];
            _conditionalReferenceCache[reference] = matches;
        }

        return matches.Count switch
        {
            1 => $"{reference[..reference.IndexOf('?', StringComparison.Ordinal)]}/{matches[0]}",
            0 => throw FhirException.BadRequest($"The conditional reference '{reference}' matches no resource.", null, OperationOutcome.IssueType.NotFound),
            _ => throw FhirException.PreconditionFailed($"The conditional reference '{reference}' matches more than one resource."),
        };
    }

    private static EntryOutcome Outcome(WriteResult result) =>
        new(result.Kind == WriteKind.Created ? 201 : 200, result.Stored);
}
