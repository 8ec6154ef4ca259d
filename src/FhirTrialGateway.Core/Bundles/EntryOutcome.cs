using System.Globalization;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>What one entry did: the status line and the stored version (or resource) to report back.</summary>
public sealed record EntryOutcome(int Status, StoredResource? Stored, Resource? Body = null, OperationOutcome? Outcome = null)
{
    public string StatusLine => Status switch
    {
        200 => "200 OK",
        201 => "201 Created",
        204 => "204 No Content",
        304 => "304 Not Modified",
        _ => Status.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The response entry of a transaction-response or batch-response bundle.</summary>
    public Bundle.EntryComponent ToResponseEntry(string baseUrl, bool includeResource)
    {
        var response = new Bundle.ResponseComponent { Status = StatusLine, Outcome = Outcome };
        var entry = new Bundle.EntryComponent { Response = response };
        if (Stored is { } stored)
        {
            entry.FullUrl = $"{baseUrl}/{stored.ResourceType}/{stored.Id}";
            response.Etag = stored.ETag;
            response.LastModified = stored.LastUpdated;
            if (Status is 200 or 201 && Body is null)
            {
                response.Location = $"{baseUrl}/{stored.VersionedReference}";
            }

            if (includeResource && stored.Json is { } json && Status != 304)
            {
                entry.Resource = Fhir.ResourceSerializer.ParseStored(json);
            }
        }

        if (includeResource && Body is not null)
        {
            entry.Resource = Body;
        }

        return entry;
    }
}
