using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;

namespace FhirTrialGateway.Tests.Http;

/// <summary>The basic interactions, driven by the Firely SDK's FhirClient as a real integration would.</summary>
public sealed class CrudTests : GatewayTest
{
    [Theory]
    [InlineData(ResourceFormat.Json)]
    [InlineData(ResourceFormat.Xml)]
    public async Task Create_read_update_delete_round_trip_through_FhirClient(ResourceFormat format)
    {
        var client = Gateway.FhirClient(format);

        var created = await client.CreateAsync(TestData.Subject("EPC-001"));
        created!.Id.Should().NotBeNullOrEmpty();
        created.Meta.VersionId.Should().Be("1");
        created.Meta.LastUpdated.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        var read = await client.ReadAsync<Patient>($"Patient/{created.Id}");
        read!.Identifier.Single().Value.Should().Be("EPC-001");

        read.Gender = AdministrativeGender.Male;
        var updated = await client.UpdateAsync(read);
        updated!.Meta.VersionId.Should().Be("2");

        var first = await client.ReadAsync<Patient>($"Patient/{created.Id}/_history/1");
        first!.Gender.Should().Be(AdministrativeGender.Female, "vread returns the version asked for");

        await client.DeleteAsync($"Patient/{created.Id}");
        var gone = async () => await client.ReadAsync<Patient>($"Patient/{created.Id}");
        (await gone.Should().ThrowAsync<FhirOperationException>()).Which.Status.Should().Be(HttpStatusCode.Gone);

        var history = await client.HistoryAsync($"Patient/{created.Id}");
        history!.Entry.Select(e => e.Request.Method).Should().Equal(Bundle.HTTPVerb.DELETE, Bundle.HTTPVerb.PUT, Bundle.HTTPVerb.POST);
        history.Total.Should().Be(3);
        history.Entry[0].Resource.Should().BeNull("a delete has no resource");
        history.Entry[0].Response.Etag.Should().Be("W/\"3\"");
    }

    [Fact]
    public async Task Create_answers_201_with_versioned_location_and_etag_and_ignores_a_client_id()
    {
        var patient = TestData.Subject("EPC-002");
        patient.Id = "client-chosen";
        var response = await Http.PostAsync("fhir/Patient", TestGateway.Json(TestData.ToJson(patient)));

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await TestData.ReadAsync<Patient>(response);
        body.Id.Should().NotBe("client-chosen");
        response.Headers.Location!.ToString().Should().Be($"{Gateway.FhirBase}/Patient/{body.Id}/_history/1");
        response.Headers.ETag!.ToString().Should().Be("W/\"1\"");
        response.Content.Headers.LastModified.Should().NotBeNull();
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+json");
    }

    [Fact]
    public async Task Update_with_a_new_client_id_creates_and_an_identical_update_keeps_the_version()
    {
        var patient = TestData.Subject("EPC-003");
        patient.Id = "epc-003";
        var create = await Http.PutAsync("fhir/Patient/epc-003", TestGateway.Json(TestData.ToJson(patient)));
        create.StatusCode.Should().Be(HttpStatusCode.Created);
        create.Headers.Location!.ToString().Should().EndWith("/Patient/epc-003/_history/1");

        var again = await Http.PutAsync("fhir/Patient/epc-003", TestGateway.Json(TestData.ToJson(patient)));
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        again.Headers.ETag!.ToString().Should().Be("W/\"1\"", "an update that changes nothing writes no version");

        patient.Gender = AdministrativeGender.Other;
        var changed = await Http.PutAsync("fhir/Patient/epc-003", TestGateway.Json(TestData.ToJson(patient)));
        changed.StatusCode.Should().Be(HttpStatusCode.OK);
        changed.Headers.ETag!.ToString().Should().Be("W/\"2\"");
    }

    [Fact]
    public async Task Read_of_unknown_id_is_404_and_of_unknown_version_is_404()
    {
        (await Http.GetAsync("fhir/Patient/does-not-exist")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var created = await Gateway.FhirClient().CreateAsync(TestData.Subject("EPC-004"));
        (await Http.GetAsync($"fhir/Patient/{created!.Id}/_history/7")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Http.GetAsync($"fhir/Patient/{created.Id}/_history/x")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_is_a_versioned_tombstone_and_update_after_delete_resurrects()
    {
        var client = Gateway.FhirClient();
        var created = await client.CreateAsync(TestData.Subject("EPC-005"));
        var delete = await Http.DeleteAsync($"fhir/Patient/{created!.Id}");
        delete.StatusCode.Should().Be(HttpStatusCode.NoContent);
        delete.Headers.ETag!.ToString().Should().Be("W/\"2\"");

        (await Http.DeleteAsync($"fhir/Patient/{created.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent, "delete is idempotent");
        (await Http.GetAsync($"fhir/Patient/{created.Id}/_history/2")).StatusCode.Should().Be(HttpStatusCode.Gone);
        (await Http.GetAsync($"fhir/Patient/{created.Id}/_history/1")).StatusCode.Should().Be(HttpStatusCode.OK);

        created.Meta = null;
        var back = await Http.PutAsync($"fhir/Patient/{created.Id}", TestGateway.Json(TestData.ToJson(created)));
        back.StatusCode.Should().Be(HttpStatusCode.Created);
        back.Headers.ETag!.ToString().Should().Be("W/\"3\"");
    }

    [Fact]
    public async Task Search_by_id_and_identifier_with_summary_count()
    {
        var client = Gateway.FhirClient();
        var a = await client.CreateAsync(TestData.Subject("EPC-010"));
        var b = await client.CreateAsync(TestData.Subject("EPC-011"));
        await client.CreateAsync(TestData.Subject("EPC-012"));

        var byId = await client.SearchAsync<Patient>([$"_id={a!.Id},{b!.Id}"]);
        byId!.Entry.Select(e => e.Resource.Id).Should().BeEquivalentTo([a.Id, b.Id]);

        var byIdentifier = await client.SearchAsync<Patient>(["identifier=urn:trial:subject|EPC-011"]);
        byIdentifier!.Entry.Should().ContainSingle().Which.Resource.Id.Should().Be(b.Id);

        (await client.SearchAsync<Patient>(["identifier=EPC-011"]))!.Entry.Should().ContainSingle("a bare code matches any system");
        (await client.SearchAsync<Patient>(["identifier=urn:other|EPC-011"]))!.Entry.Should().BeEmpty();
        (await client.SearchAsync<Patient>(["identifier=|EPC-011"]))!.Entry.Should().BeEmpty("|code matches only identifiers without a system");
        (await client.SearchAsync<Patient>(["identifier=urn:trial:subject|"]))!.Total.Should().Be(3);

        var count = await Http.GetAsync("fhir/Patient?identifier=urn:trial:subject|&_summary=count");
        var bundle = await TestData.ReadAsync<Bundle>(count);
        bundle.Total.Should().Be(3);
        bundle.Entry.Should().BeEmpty();
    }

    [Fact]
    public async Task Search_pages_with_next_links_without_repeats_while_data_arrives()
    {
        var client = Gateway.FhirClient();
        for (var i = 0; i < 7; i++)
        {
            await client.CreateAsync(TestData.Subject($"PAGE-{i}"));
        }

        var seen = new List<string>();
        var page = await client.SearchAsync<Patient>(["_count=3"]);
        while (page is not null)
        {
            seen.AddRange(page.Entry.Select(e => e.Resource.Id));
            await client.CreateAsync(TestData.Subject($"LATE-{seen.Count}"));
            page = await client.ContinueAsync(page);
        }

        seen.Should().HaveCount(7).And.OnlyHaveUniqueItems("resources created after the search began are not paged into it");
    }
}
