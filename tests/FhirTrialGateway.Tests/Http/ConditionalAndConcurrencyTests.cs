using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Http;

/// <summary>Conditional create and update, optimistic locking, and their behaviour under concurrent requests.</summary>
public sealed class ConditionalAndConcurrencyTests : GatewayTest
{
    private async Task<HttpResponseMessage> ConditionalCreate(Resource resource, string condition)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"fhir/{resource.TypeName}") { Content = TestGateway.Json(TestData.ToJson(resource)) };
        request.Headers.Add("If-None-Exist", condition);
        return await Http.SendAsync(request);
    }

    private async Task<int> CountAsync(string query)
    {
        var bundle = await TestData.ReadAsync<Bundle>(await Http.GetAsync($"fhir/{query}&_summary=count"));
        return bundle.Total!.Value;
    }

    [Fact]
    public async Task If_None_Exist_creates_once_returns_the_match_and_refuses_ambiguity()
    {
        var first = await ConditionalCreate(TestData.Subject("C-1"), "identifier=urn:trial:subject|C-1");
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        var createdId = (await TestData.ReadAsync<Patient>(first)).Id;

        var second = await ConditionalCreate(TestData.Subject("C-1"), "identifier=urn:trial:subject|C-1");
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        (await TestData.ReadAsync<Patient>(second)).Id.Should().Be(createdId);
        second.Headers.ETag!.ToString().Should().Be("W/\"1\"", "nothing was written");

        await Gateway.FhirClient().CreateAsync(TestData.Subject("C-1"));
        var third = await ConditionalCreate(TestData.Subject("C-1"), "identifier=urn:trial:subject|C-1");
        third.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await CountAsync("Patient?identifier=C-1")).Should().Be(2);
    }

    [Fact]
    public async Task If_None_Exist_with_an_unknown_parameter_is_400_not_a_blind_create()
    {
        var response = await ConditionalCreate(TestData.Subject("C-2"), "nonsense=1");
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Expression.Should().Contain("nonsense");
        (await CountAsync("Patient?identifier=C-2")).Should().Be(0);
    }

    [Fact]
    public async Task Concurrent_identical_conditional_creates_make_exactly_one_resource()
    {
        for (var round = 0; round < 5; round++)
        {
            var identifier = $"RACE-{round}";
            var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
                ConditionalCreate(TestData.Subject(identifier), $"identifier=urn:trial:subject|{identifier}")));

            responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
            responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(23);
            var ids = await Task.WhenAll(responses.Select(async r => (await TestData.ReadAsync<Patient>(r)).Id));
            ids.Distinct().Should().ContainSingle("every caller is given the one resource");
            (await CountAsync($"Patient?identifier={identifier}")).Should().Be(1);
        }
    }

    [Fact]
    public async Task Conditional_update_creates_updates_or_refuses_by_match_count()
    {
        var patient = TestData.Subject("U-1");
        var create = await Http.PutAsync("fhir/Patient?identifier=urn:trial:subject|U-1", TestGateway.Json(TestData.ToJson(patient)));
        create.StatusCode.Should().Be(HttpStatusCode.Created);
        var id = (await TestData.ReadAsync<Patient>(create)).Id;

        patient.Gender = AdministrativeGender.Male;
        var update = await Http.PutAsync("fhir/Patient?identifier=urn:trial:subject|U-1", TestGateway.Json(TestData.ToJson(patient)));
        update.StatusCode.Should().Be(HttpStatusCode.OK);
        var updated = await TestData.ReadAsync<Patient>(update);
        updated.Id.Should().Be(id);
        updated.Meta.VersionId.Should().Be("2");

        var wrongId = TestData.Subject("U-1");
        wrongId.Id = "someone-else";
        (await Http.PutAsync("fhir/Patient?identifier=urn:trial:subject|U-1", TestGateway.Json(TestData.ToJson(wrongId))))
            .StatusCode.Should().Be(HttpStatusCode.BadRequest);

        await Gateway.FhirClient().CreateAsync(TestData.Subject("U-1"));
        (await Http.PutAsync("fhir/Patient?identifier=urn:trial:subject|U-1", TestGateway.Json(TestData.ToJson(patient))))
            .StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task Concurrent_conditional_updates_of_a_new_identity_make_one_resource()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
        {
            var observation = TestData.WalkingDistance("p1", 100 + i, identifier: "OBS-RACE");
            return Http.PutAsync("fhir/Observation?identifier=urn:trial:obs|OBS-RACE", TestGateway.Json(TestData.ToJson(observation)));
        }));

        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.Created || r.StatusCode == HttpStatusCode.OK);
        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        (await CountAsync("Observation?identifier=OBS-RACE")).Should().Be(1);
    }

    [Fact]
    public async Task If_Match_with_a_stale_version_is_412_and_concurrent_updates_with_one_version_let_exactly_one_win()
    {
        var created = await Gateway.FhirClient().CreateAsync(TestData.Subject("M-1"));
        var id = created!.Id;

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
        {
            var patient = TestData.Subject("M-1");
            patient.Id = id;
            // Every body differs from the stored one (born 1950): an update identical to the current version is a
            // no-op answered 200 without a new version, which would be a second 200 when it ran first.
            patient.BirthDateElement = new Date(1960 + i);
            var request = new HttpRequestMessage(HttpMethod.Put, $"fhir/Patient/{id}") { Content = TestGateway.Json(TestData.ToJson(patient)) };
            request.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");
            return Http.SendAsync(request);
        }));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed).Should().Be(11);
        var current = await Gateway.FhirClient().ReadAsync<Patient>($"Patient/{id}");
        current!.Meta.VersionId.Should().Be("2");

        var stale = new HttpRequestMessage(HttpMethod.Put, $"fhir/Patient/{id}") { Content = TestGateway.Json(TestData.ToJson(current)) };
        stale.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");
        var staleResponse = await Http.SendAsync(stale);
        staleResponse.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await TestData.ReadAsync<OperationOutcome>(staleResponse)).Issue.Single().Diagnostics.Should().Contain("current version is 2");
    }

    [Fact]
    public async Task Delete_with_a_stale_If_Match_is_412_and_keeps_the_resource()
    {
        var created = await Gateway.FhirClient().CreateAsync(TestData.Subject("M-2"));
        var request = new HttpRequestMessage(HttpMethod.Delete, $"fhir/Patient/{created!.Id}");
        request.Headers.TryAddWithoutValidation("If-Match", "W/\"9\"");
        (await Http.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await Http.GetAsync($"fhir/Patient/{created.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
