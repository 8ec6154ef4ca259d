using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>Builds the searchset and history Bundles the REST surface answers with.</summary>
internal static class ResultBundles
{
    /// <summary>
    /// The searchset: matches, then included resources, then an OperationOutcome for what was ignored. Links carry only
    /// the parameters that were applied, plus the keyset cursor and the snapshot that keep paging stable.
    /// </summary>
    public static StoredBundle Searchset(SearchRequest request, SearchPage page, string baseUrl, string path)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Total = page.Total is { } total ? (int)total : null };
        var stored = new StoredBundle(bundle);
        var applied = request.Applied.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}").ToList();
        applied.Add($"_count={request.Query.Count}");
        var self = $"{baseUrl}/{path}?{string.Join('&', applied)}";
        string Link(PageCursor cursor) => $"{self}&_cursor={cursor.Encode()}&_snapshot={page.SnapshotKey}";

        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = request.Query.Cursor is { } at ? Link(at) : self });
        if (page.Previous is { } previous)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "previous", Url = Link(previous) });
        }

        if (page.Next is { } next)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = Link(next) });
        }

        foreach (var (resource, mode) in page.Matches.Select(m => (m, Bundle.SearchEntryMode.Match))
                     .Concat(page.Included.Select(i => (i, Bundle.SearchEntryMode.Include))))
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{resource.ResourceType}/{resource.Id}",
                Resource = stored.Hold(resource.Json!),
                Search = new Bundle.SearchComponent { Mode = mode },
            });
        }

        var warnings = new List<OperationOutcome.IssueComponent>();
        if (request.Ignored.Count > 0)
        {
            warnings.Add(Warning(OperationOutcome.IssueType.NotSupported,
                $"Ignored unsupported search parameters: {string.Join(", ", request.Ignored)}."));
        }

        if (page.IncludesTruncated)
        {
            warnings.Add(Warning(OperationOutcome.IssueType.TooCostly,
                $"Included resources were cut short at {page.Included.Count}; narrow the search to get them all."));
        }

        if (warnings.Count > 0)
        {
            var outcome = new OperationOutcome();
            outcome.Issue.AddRange(warnings);

            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = outcome,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        }

        return stored;
    }

    public static StoredBundle History(HistoryPage page, string selfUrl, string baseUrl)
    {
        var bundle = new Bundle { Type = Bundle.BundleType.History, Total = page.Total is { } total ? (int)total : null };
        var stored = new StoredBundle(bundle);
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = selfUrl });
        if (page.NextBeforeSequence is { } next)
        {
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = WithParameter(selfUrl, "_cursor", next.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        }

        foreach (var version in page.Versions)
        {
            var entry = new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{version.ResourceType}/{version.Id}",
                Request = new Bundle.RequestComponent
                {
                    Method = version.Method switch
                    {
                        VersionMethod.Create => Bundle.HTTPVerb.POST,
                        VersionMethod.Update => Bundle.HTTPVerb.PUT,
                        _ => Bundle.HTTPVerb.DELETE,
                    },
                    Url = version.Method == VersionMethod.Create ? version.ResourceType : $"{version.ResourceType}/{version.Id}",
                },
                Response = new Bundle.ResponseComponent
                {
                    Status = version.Method switch
                    {
                        VersionMethod.Create => "201 Created",
                        VersionMethod.Update => "200 OK",
                        _ => "204 No Content",
                    },
                    Etag = version.ETag,
                    LastModified = version.LastUpdated,
                },
            };
            if (version.Json is { } json)
            {
                entry.Resource = stored.Hold(json);
            }

            bundle.Entry.Add(entry);
        }

        return stored;
    }

    private static OperationOutcome.IssueComponent Warning(OperationOutcome.IssueType code, string diagnostics) => new()
    {
        Severity = OperationOutcome.IssueSeverity.Warning,
        Code = code,
        Diagnostics = diagnostics,
    };

    /// <summary>Replaces or adds one query parameter of an absolute URL.</summary>
    private static string WithParameter(string url, string name, string value)
    {
        var question = url.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? url : url[..question];
        var pairs = question < 0 ? [] : SearchRequestParser.ParseQueryString(url[(question + 1)..]);
        pairs.RemoveAll(p => p.Key == name);
        pairs.Add(new(name, value));
        return path + "?" + string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
    }
}
