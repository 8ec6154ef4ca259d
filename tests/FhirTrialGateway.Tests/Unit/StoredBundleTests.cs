using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Http;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Unit;

/// <summary>
/// Searchset and history Bundles are written by splicing stored JSON into an SDK-serialized envelope: the result
/// must be the same Bundle the SDK writes when every entry is parsed, whatever the links and diagnostics contain.
/// </summary>
public sealed class StoredBundleTests
{
    [Fact]
    public void Spliced_JSON_is_the_Bundle_the_SDK_writes_from_parsed_entries()
    {
        var stored = Build();
        var spliced = ResourceSerializer.Parse(stored.SpliceJson(), FhirFormat.Json);

        var expected = ResourceSerializer.SerializeJson(Build().Materialize());
        ResourceSerializer.SerializeJson(spliced).Should().Equal(expected);
        ((Bundle)spliced).Entry.Select(e => e.Resource.TypeName).Should().Equal("Observation", "Patient", "Basic", "OperationOutcome");
    }

    [Fact]
    public void The_placeholder_text_is_what_the_SDK_writes_for_a_placeholder()
    {
        var envelope = new Bundle { Type = Bundle.BundleType.Searchset };
        var stored = new StoredBundle(envelope);
        envelope.Entry.Add(new Bundle.EntryComponent { Resource = stored.Hold([]) });

        ResourceSerializer.SerializeJson(envelope).AsSpan().IndexOf(StoredBundle.Marker(0)).Should().BeGreaterThan(0);
    }

    private static StoredBundle Build()
    {
        var envelope = new Bundle { Type = Bundle.BundleType.Searchset, Total = 3 };
        // A link whose query holds the placeholder's own text: inside a JSON string its quotes are escaped.
        envelope.Link.Add(new Bundle.LinkComponent
        {
            Relation = "self",
            Url = "http://localhost/fhir/Basic?_content={\"resourceType\":\"Basic\",\"id\":\"stored-entry-0\"}",
        });
        var stored = new StoredBundle(envelope);
        Resource[] resources =
        [
            new Observation { Id = "o1", Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "8480-6"), Value = new Quantity(120, "mm[Hg]") },
            new Patient { Id = "p1", Name = [new HumanName { Family = "Ünïcode \"quoted\" </script>" }] },
            new Basic { Id = "stored-entry-7", Code = new CodeableConcept("urn:test", "a real Basic with a look-alike id") },
        ];
        foreach (var resource in resources)
        {
            envelope.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"http://localhost/fhir/{resource.TypeName}/{resource.Id}",
                Resource = stored.Hold(ResourceSerializer.SerializeJson(resource)),
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }

        envelope.Entry.Add(new Bundle.EntryComponent
        {
            Resource = new OperationOutcome
            {
                Issue = [new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Warning,
                    Code = OperationOutcome.IssueType.NotSupported,
                    Diagnostics = "{\"resourceType\":\"Basic\",\"id\":\"stored-entry-1\"}",
                }],
            },
            Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
        });
        return stored;
    }
}
