using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Result parameters (R4 3.1.1.5), POST and system search, lenient/strict handling, CapabilityStatement.</summary>
public sealed class ResultControlTests : SearchTest
{
    private async Task<(string Patient, string Subject, List<string> Observations)> SeedAsync()
    {
        var patient = await CreateAsync(new Patient { Name = [new HumanName { Family = "Zed" }], BirthDateElement = new Date(1950) });
        var subject = await CreateAsync(new ResearchSubject
        {
            Status = ResearchSubject.ResearchSubjectStatus.OnStudy,
            Study = new ResourceReference("ResearchStudy/epc"),
            Individual = new ResourceReference($"Patient/{patient}"),
        });
        var observations = new List<string>();
        foreach (var (day, value) in new[] { (3, 30m), (1, 10m), (2, 20m) })
        {
            observations.Add(await CreateAsync(new Observation
            {
                Status = ObservationStatus.Final,
                Code = new CodeableConcept("http://loinc.org", "29463-7"),
                Subject = new ResourceReference($"Patient/{patient}"),
                Effective = new FhirDateTime($"2026-03-0{day}"),
                Value = new Quantity(value, "kg"),
            }));
        }

        return (patient, subject, observations);
    }

    [Fact]
    public async Task Sort_orders_by_several_keys_in_both_directions()
    {
        var s = await SeedAsync();
        (await IdsAsync("Observation?_sort=date")).Should().Equal(s.Observations[1], s.Observations[2], s.Observations[0]);
        (await IdsAsync("Observation?_sort=-date")).Should().Equal(s.Observations[0], s.Observations[2], s.Observations[1]);
        (await IdsAsync("Observation?_sort=-value-quantity")).Should().Equal(s.Observations[0], s.Observations[2], s.Observations[1]);
        (await IdsAsync("Observation?_sort=status,-_lastUpdated")).Should().Equal(s.Observations[2], s.Observations[1], s.Observations[0]);
        (await IdsOfAllPagesAsync("Observation?_sort=date&_count=1")).Should().Equal(s.Observations[1], s.Observations[2], s.Observations[0]);
    }

    [Fact]
    public async Task Sorting_by_lastUpdated_keeps_write_order_within_one_instant()
    {
        // One transaction writes its entries at (nearly always) the same millisecond: the order must still be the
        // order they were written in, ascending and descending, also across pages.
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        for (var i = 0; i < 5; i++)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"urn:uuid:{Guid.NewGuid()}",
                Resource = new Basic { Code = new CodeableConcept("urn:test:sort", "same-instant"), Identifier = [new Identifier("urn:test:sort", $"{i}")] },
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Basic" },
            });
        }

        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(bundle)));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var written = (await TestData.ReadAsync<Bundle>(response)).Entry
            .Select(e => e.Response.Location[(e.Response.Location.IndexOf("Basic/", StringComparison.Ordinal) + 6)..].Split('/')[0]).ToList();

        (await IdsAsync("Basic?code=urn:test:sort|same-instant&_sort=_lastUpdated")).Should().Equal(written);
        (await IdsAsync("Basic?code=urn:test:sort|same-instant&_sort=-_lastUpdated")).Should().Equal(Enumerable.Reverse(written));
        (await IdsOfAllPagesAsync("Basic?code=urn:test:sort|same-instant&_sort=-_lastUpdated&_count=2")).Should().Equal(Enumerable.Reverse(written));
    }

    [Fact]
    public async Task Include_and_revinclude_with_iterate()
    {
        var s = await SeedAsync();
        var included = await SearchAsync($"ResearchSubject?_id={s.Subject}&_include=ResearchSubject:individual");
        IncludedIds(included).Should().Equal(s.Patient);

        var revincluded = await SearchAsync($"Patient?_id={s.Patient}&_revinclude=Observation:subject");
        IncludedIds(revincluded)
            .Should().BeEquivalentTo(s.Observations);
        revincluded.Total.Should().Be(1, "included resources do not count as matches");

        // The benchmark's question: the Observations of a research subject's patient, in one search.
        var both = await SearchAsync($"ResearchSubject?_id={s.Subject}&_include=ResearchSubject:individual&_revinclude:iterate=Observation:subject");
        IncludedIds(both)
            .Should().BeEquivalentTo(s.Observations.Append(s.Patient));

        var wildcard = await SearchAsync("Observation?_include=Observation:*");
        wildcard.Entry.Count(e => e.Search.Mode == Bundle.SearchEntryMode.Include).Should().Be(1);
    }

    [Fact]
    public async Task Summary_elements_and_total()
    {
        await SeedAsync();
        var count = await SearchAsync("Observation?_summary=count");
        count.Total.Should().Be(3);
        count.Entry.Should().BeEmpty();

        var summary = await SearchAsync("Patient?_summary=true");
        ((Patient)summary.Entry.Single().Resource).BirthDate.Should().Be("1950");

        var data = await SearchAsync("Observation?_elements=status&_count=1");
        var observation = (Observation)data.Entry.Single().Resource;
        observation.Status.Should().Be(ObservationStatus.Final);
        observation.Value.Should().BeNull();

        (await SearchAsync("Observation?_total=none")).Total.Should().BeNull();
        (await SearchAsync("Observation?_total=accurate&_count=1")).Total.Should().Be(3);
        var text = await Http.GetAsync("fhir/Observation?_summary=text");
        text.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Post_search_and_system_search()
    {
        var s = await SeedAsync();
        using var form = new FormUrlEncodedContent([new("code", "http://loinc.org|29463-7"), new("date", "ge2026-03-02")]);
        var post = await Http.PostAsync("fhir/Observation/_search", form);
        post.StatusCode.Should().Be(HttpStatusCode.OK);
        (await TestData.ReadAsync<Bundle>(post)).Entry.Select(e => e.Resource.Id).Should().BeEquivalentTo([s.Observations[0], s.Observations[2]]);

        (await IdsAsync($"?_id={s.Patient},{s.Subject}")).Should().BeEquivalentTo([s.Patient, s.Subject]);
        (await IdsAsync("?_type=Patient,ResearchSubject&_count=10")).Should().BeEquivalentTo([s.Patient, s.Subject]);
        using var systemForm = new FormUrlEncodedContent([new("_type", "Patient")]);
        var systemPost = await Http.PostAsync("fhir/_search", systemForm);
        (await TestData.ReadAsync<Bundle>(systemPost)).Entry.Should().ContainSingle();
    }

    [Fact]
    public async Task Unknown_parameters_are_reported_or_refused_and_malformed_values_are_400()
    {
        await SeedAsync();
        var lenient = await SearchAsync("Observation?foo=1&code=29463-7&code:in=http://vs&_sort=bar");
        lenient.Entry.Count(e => e.Search.Mode == Bundle.SearchEntryMode.Match).Should().Be(3);
        var self = lenient.Link.Single(l => l.Relation == "self").Url;
        self.Should().Contain("code=29463-7").And.NotContain("foo").And.NotContain("code%3Ain").And.NotContain("bar");
        var outcome = (OperationOutcome)lenient.Entry.Single(e => e.Search.Mode == Bundle.SearchEntryMode.Outcome).Resource;
        outcome.Issue.Single().Diagnostics.Should().Contain("foo").And.Contain("code:in").And.Contain("_sort=bar");

        using var strict = new HttpRequestMessage(HttpMethod.Get, "fhir/Observation?foo=1");
        strict.Headers.Add("Prefer", "handling=strict");
        var refused = await Http.SendAsync(strict);
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("foo");

        (await StatusAsync("Observation?_count=x")).Should().Be(HttpStatusCode.BadRequest);
        (await StatusAsync("Observation?code:missing=maybe")).Should().Be(HttpStatusCode.BadRequest);
        (await StatusAsync("Observation?_cursor=%%%")).Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_capability_statement_lists_every_supported_search_parameter()
    {
        var response = await Http.GetAsync("fhir/metadata");
        var statement = await TestData.ReadAsync<CapabilityStatement>(response);
        var rest = statement.Rest.Single();
        var observation = rest.Resource.Single(r => r.Type == "Observation");
        observation.SearchParam.Select(p => p.Name).Should().Contain(
            ["_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "code", "subject", "date", "value-quantity", "code-value-quantity", "identifier"]);
        observation.SearchParam.Single(p => p.Name == "subject").Type.Should().Be(SearchParamType.Reference);
        observation.SearchInclude.Should().Contain("Observation:subject");
        rest.Resource.Single(r => r.Type == "Location").SearchParam.Select(p => p.Name).Should().NotContain("near", "special parameters are not supported");
        rest.SearchParam.Select(p => p.Name).Should().Contain(["_id", "_lastUpdated"]);
        rest.Interaction.Select(i => i.Code).Should().Contain(CapabilityStatement.SystemRestfulInteraction.SearchSystem);
        _ = new MediaTypeHeaderValue("application/fhir+json");
    }
}
