using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Index rows come from the R4 SearchParameter expressions, for every parameter type.</summary>
public sealed class IndexExtractionTests
{
    [Fact]
    public void An_observation_yields_rows_of_every_type_it_has_values_for()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept { Coding = [new Coding("http://loinc.org", "8480-6", "Systolic")], Text = "SBP" },
            Subject = new ResourceReference("Patient/p1/_history/2"),
            Performer = [new ResourceReference("https://other.example/fhir/Practitioner/9")],
            Effective = new Period(new FhirDateTime("2026-03-01"), null),
            Value = new Quantity(120, "mm[Hg]"),
            Meta = new Meta { Tag = [new Coding("urn:t", "x")], Profile = ["http://example.org/StructureDefinition/obs"] },
        };

        var rows = SearchIndexer.Instance.Extract(observation);

        rows.Tokens.Should().Contain([new TokenIndexEntry("code", "http://loinc.org", "8480-6"), new TokenIndexEntry("status", null, "final"),
            new TokenIndexEntry("_tag", "urn:t", "x")]);
        rows.Strings.Should().Contain(new StringIndexEntry("code:text", "sbp", "SBP"));
        rows.References.Should().Contain([new ReferenceIndexEntry("subject", "Patient", "p1"),
            new ReferenceIndexEntry("performer", null, "https://other.example/fhir/Practitioner/9")]);
        rows.References.Should().NotContain(r => r.Parameter == "patient", "patient is searched through subject's rows (IndexAlias)");
        var date = rows.Dates.Single(d => d.Parameter == "date");
        date.Low.Should().Be(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        date.High.Should().Be(SearchValues.MaxInstant, "an open Period end goes on forever");
        rows.Quantities.Should().Contain(new QuantityIndexEntry("value-quantity", "http://unitsofmeasure.org", "mm[Hg]", "mm[Hg]", 120));
        rows.Composites.Should().Contain(c => c.Parameter == "code-value-quantity" && c.Code1 == "8480-6" && c.Low2 == 120);
        rows.Uris.Should().Contain(new UriIndexEntry("_profile", "http://example.org/StructureDefinition/obs"));
    }

    [Fact]
    public void Subject_references_to_groups_are_not_patient_references()
    {
        var rows = SearchIndexer.Instance.Extract(new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept(null, "x"), Subject = new ResourceReference("Group/g") });
        rows.References.Should().ContainSingle().Which.Should().Be(new ReferenceIndexEntry("subject", "Group", "g"));
    }

    [Theory]
    [InlineData("2026", "2026-01-01T00:00:00.000Z", "2026-12-31T23:59:59.999Z")]
    [InlineData("2026-02", "2026-02-01T00:00:00.000Z", "2026-02-28T23:59:59.999Z")]
    [InlineData("2026-03-01", "2026-03-01T00:00:00.000Z", "2026-03-01T23:59:59.999Z")]
    [InlineData("2026-03-01T10:00", "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:59.999Z")]
    [InlineData("2026-03-01T10:00:05+02:00", "2026-03-01T08:00:05.000Z", "2026-03-01T08:00:05.999Z")]
    [InlineData("2026-03-01T10:00:05.25Z", "2026-03-01T10:00:05.250Z", "2026-03-01T10:00:05.250Z")]
    public void Dates_stand_for_the_range_of_their_precision(string value, string low, string high)
    {
        SearchValues.TryParseDateRange(value, out var l, out var h).Should().BeTrue();
        DateTimeOffset.FromUnixTimeMilliseconds(l).Should().Be(DateTimeOffset.Parse(low, System.Globalization.CultureInfo.InvariantCulture));
        DateTimeOffset.FromUnixTimeMilliseconds(h).Should().Be(DateTimeOffset.Parse(high, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Strings_are_normalized_without_case_and_accents() =>
        SearchValues.Normalize("Zoë-MÜLLER Éloïse").Should().Be("zoe-muller eloise");

    [Fact]
    public void Every_resource_type_has_its_parameters_and_composites_from_components()
    {
        var parameters = SearchParameters.Instance;
        foreach (var type in FhirTrialGateway.Core.Fhir.FhirModel.ResourceTypes)
        {
            parameters.For(type).Should().ContainKeys("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source");
        }

        parameters.Find("Observation", "code-value-quantity")!.Composite!.SecondType.Should().Be(SearchParamType.Quantity);
        parameters.Find("MolecularSequence", "chromosome-variant-coordinate").Should().BeNull("three-part composites are left out");
        parameters.CompartmentParameters("Patient", "Observation").Should().Contain(["patient", "subject", "performer"]).And.NotContain("focus");
    }

    [Fact]
    public void Cursors_round_trip()
    {
        var cursor = new PageCursor(true, 42, [1234L, "abc", null, 1.5]);
        PageCursor.Decode(cursor.Encode()).Should().BeEquivalentTo(cursor);
        PageCursor.Decode("17").Should().BeEquivalentTo(new PageCursor(false, 17, []));
    }
}
