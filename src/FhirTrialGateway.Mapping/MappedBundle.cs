using Hl7.Fhir.Model;

namespace FhirTrialGateway.Mapping;

/// <summary>
/// A produced resource with the profile it must meet (null: core R4 only), its entry full URL and the request
/// URL that makes writing it idempotent (a conditional update on a business identifier, or an update of a
/// deterministic id).
/// </summary>
public sealed record MappedResource(Resource Resource, string? Profile, string FullUrl, string RequestUrl);

/// <summary>The resources of one unit of import (a study, or one subject) and the problems found producing them.</summary>
public sealed record MappedBundle(string Key, IReadOnlyList<MappedResource> Resources, IReadOnlyList<ImportIssue> Issues)
{
    public bool HasErrors => Issues.Any(i => i.IsError);

    /// <summary>The transaction: every entry a PUT, so re-sending it creates nothing twice.</summary>
    public Bundle ToTransaction()
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        foreach (var mapped in Resources)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = mapped.FullUrl,
                Resource = mapped.Resource,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = mapped.RequestUrl },
            });
        }

        return bundle;
    }
}
