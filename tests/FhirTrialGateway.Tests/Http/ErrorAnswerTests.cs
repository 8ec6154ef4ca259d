using System.Net;
using System.Text;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Http;

/// <summary>Bad input gets an OperationOutcome with the right status and the place of the problem, and writes nothing.</summary>
public sealed class ErrorAnswerTests : GatewayTest
{
    protected override string[] Settings => ["Fhir:MaxRequestBodyBytes=4096"];

    private static async Task<OperationOutcome> ExpectOutcome(HttpResponseMessage response, HttpStatusCode status)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+json");
        var outcome = await TestData.ReadAsync<OperationOutcome>(response);
        outcome.Issue.Should().NotBeEmpty();
        outcome.Issue.Should().OnlyContain(i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Code != null);
        return outcome;
    }

    private async Task ExpectNothingStored() =>
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/_history?_count=1000"))).DataEntries().Should().BeEmpty();

    [Fact]
    public async Task Malformed_json_is_400_naming_line_and_position()
    {
        var outcome = await ExpectOutcome(await Http.PostAsync("fhir/Patient", TestGateway.Json("{\n  \"resourceType\": \"Patient\",\n  \"gender\": }")),
            HttpStatusCode.BadRequest);
        outcome.Issue[0].Diagnostics.Should().Contain("line 3");
        outcome.Issue[0].Location.Should().ContainSingle();
        await ExpectNothingStored();
    }

    [Fact]
    public async Task Invalid_element_is_400_with_its_fhirpath()
    {
        var outcome = await ExpectOutcome(await Http.PostAsync("fhir/Patient",
            TestGateway.Json("{\"resourceType\":\"Patient\",\"gender\":\"unknown-gender\",\"birthDate\":\"1950\"}")), HttpStatusCode.BadRequest);
        outcome.Issue.Should().Contain(i => i.Expression.Contains("Patient.gender"));

        var unknown = await ExpectOutcome(await Http.PostAsync("fhir/Patient",
            TestGateway.Json("{\"resourceType\":\"Patient\",\"favouriteColour\":\"blue\"}")), HttpStatusCode.BadRequest);
        unknown.Issue[0].Diagnostics.Should().Contain("favouriteColour");
        await ExpectNothingStored();
    }

    [Fact]
    public async Task Malformed_xml_is_400_naming_the_position()
    {
        var outcome = await ExpectOutcome(await Http.PostAsync("fhir/Patient",
            TestGateway.Content("<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"male\"></Patient>", "application/fhir+xml")),
            HttpStatusCode.BadRequest);
        outcome.Issue[0].Diagnostics.Should().Contain("line 1");
    }

    [Fact]
    public async Task Xml_with_a_dtd_or_external_entity_is_400_and_never_expanded()
    {
        const string xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE Patient [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
            <Patient xmlns="http://hl7.org/fhir"><id value="&secret;"/></Patient>
            """;
        var response = await Http.PostAsync("fhir/Patient", TestGateway.Content(xxe, "application/fhir+xml"));
        var outcome = await ExpectOutcome(response, HttpStatusCode.BadRequest);
        outcome.Issue[0].Diagnostics.Should().Contain("DTD");
        var hostname = File.Exists("/etc/hostname") ? (await File.ReadAllTextAsync("/etc/hostname")).Trim() : null;
        if (!string.IsNullOrEmpty(hostname))
        {
            (await response.Content.ReadAsStringAsync()).Should().NotContain(hostname);
        }

        await ExpectNothingStored();
    }

    [Fact]
    public async Task Body_type_or_id_that_does_not_match_the_url_is_400()
    {
        var mismatch = await ExpectOutcome(await Http.PostAsync("fhir/Observation", TestGateway.Json(TestData.ToJson(TestData.Subject("E-1")))),
            HttpStatusCode.BadRequest);
        mismatch.Issue[0].Diagnostics.Should().Contain("Patient").And.Contain("Observation");

        var patient = TestData.Subject("E-1");
        patient.Id = "one";
        await ExpectOutcome(await Http.PutAsync("fhir/Patient/two", TestGateway.Json(TestData.ToJson(patient))), HttpStatusCode.BadRequest);
        patient.Id = null;
        var missing = await ExpectOutcome(await Http.PutAsync("fhir/Patient/two", TestGateway.Json(TestData.ToJson(patient))), HttpStatusCode.BadRequest);
        missing.Issue[0].Expression.Should().Contain("Patient.id");
        await ExpectNothingStored();
    }

    [Fact]
    public async Task Unknown_type_is_404_and_invalid_id_is_400()
    {
        await ExpectOutcome(await Http.GetAsync("fhir/Spaceship/1"), HttpStatusCode.NotFound);
        await ExpectOutcome(await Http.PostAsync("fhir/Spaceship", TestGateway.Json("{\"resourceType\":\"Spaceship\"}")), HttpStatusCode.NotFound);
        await ExpectOutcome(await Http.GetAsync("fhir/Patient/" + new string('a', 65)), HttpStatusCode.BadRequest);
        await ExpectOutcome(await Http.GetAsync("fhir/Patient/bad_id"), HttpStatusCode.BadRequest);
        await ExpectOutcome(await Http.GetAsync("fhir/Patient/1/2/3/4"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Body_over_the_limit_is_413_with_and_without_content_length()
    {
        var big = TestData.Subject("E-2");
        big.Text = new Narrative { Status = Narrative.NarrativeStatus.Generated, Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{new string('x', 8000)}</div>" };
        await ExpectOutcome(await Http.PostAsync("fhir/Patient", TestGateway.Json(TestData.ToJson(big))), HttpStatusCode.RequestEntityTooLarge);

        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(TestData.ToJson(big))));
        chunked.Headers.ContentType = new("application/fhir+json");
        var request = new HttpRequestMessage(HttpMethod.Post, "fhir/Patient") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await ExpectOutcome(await Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
        await ExpectNothingStored();
    }

    [Fact]
    public async Task Unsupported_method_is_405_and_search_handling_strict_rejects_unknown_parameters()
    {
        await ExpectOutcome(await Http.PatchAsync("fhir/Patient/1", TestGateway.Json("{}")), HttpStatusCode.MethodNotAllowed);

        var strict = new HttpRequestMessage(HttpMethod.Get, "fhir/Patient?shoeSize=42");
        strict.Headers.Add("Prefer", "handling=strict");
        var outcome = await ExpectOutcome(await Http.SendAsync(strict), HttpStatusCode.BadRequest);
        outcome.Issue[0].Expression.Should().Contain("shoeSize");

        var lenient = await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Patient?shoeSize=42"));
        lenient.SelfLink.ToString().Should().NotContain("shoeSize");
        lenient.Entry.Should().ContainSingle(e => e.Search.Mode == Bundle.SearchEntryMode.Outcome);

        await ExpectOutcome(await Http.GetAsync("fhir/Patient?_count=many"), HttpStatusCode.BadRequest);
        await ExpectOutcome(await Http.GetAsync("fhir/Patient/_history?_since=yesterday"), HttpStatusCode.BadRequest);
    }
}
