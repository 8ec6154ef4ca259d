using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Http;

/// <summary>JSON and XML in and out, _format, Accept, _pretty and the Prefer header.</summary>
public sealed class ContentNegotiationTests : GatewayTest
{
    private const string PatientXml =
        "<Patient xmlns=\"http://hl7.org/fhir\"><identifier><system value=\"urn:trial:subject\"/><value value=\"X-1\"/></identifier><gender value=\"female\"/></Patient>";

    [Fact]
    public async Task Xml_in_json_out_and_back()
    {
        var created = await Http.PostAsync("fhir/Patient", TestGateway.Content(PatientXml, "application/fhir+xml"));
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+json", "no Accept means JSON");
        var id = (await TestData.ReadAsync<Patient>(created)).Id;

        var asXml = await Http.GetAsync($"fhir/Patient/{id}?_format=xml");
        asXml.Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+xml");
        (await asXml.Content.ReadAsStringAsync()).Should().StartWith("<Patient xmlns=\"http://hl7.org/fhir\">");

        var request = new HttpRequestMessage(HttpMethod.Get, $"fhir/Patient/{id}");
        request.Headers.Accept.ParseAdd("application/fhir+xml;q=0.9, application/fhir+json;q=0.5");
        (await Http.SendAsync(request)).Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+xml");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/fhir+json; fhirVersion=4.0")]
    [InlineData("*/*")]
    public async Task Json_accept_forms_are_served_json(string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "fhir/metadata");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/fhir+json");
    }

    [Fact]
    public async Task Unacceptable_accept_is_406_and_unsupported_content_type_is_415()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "fhir/metadata");
        request.Headers.TryAddWithoutValidation("Accept", "text/plain");
        var notAcceptable = await Http.SendAsync(request);
        notAcceptable.StatusCode.Should().Be(HttpStatusCode.NotAcceptable);
        (await TestData.ReadAsync<OperationOutcome>(notAcceptable)).Issue.Should().ContainSingle();

        (await Http.GetAsync("fhir/metadata?_format=text/csv")).StatusCode.Should().Be(HttpStatusCode.NotAcceptable);

        var unsupported = await Http.PostAsync("fhir/Patient", TestGateway.Content("gender=female", "text/plain"));
        unsupported.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        (await TestData.ReadAsync<OperationOutcome>(unsupported)).Issue.Single().Code.Should().Be(OperationOutcome.IssueType.NotSupported);
    }

    [Fact]
    public async Task Pretty_output_is_indented()
    {
        var compact = await (await Http.GetAsync("fhir/metadata")).Content.ReadAsStringAsync();
        var pretty = await (await Http.GetAsync("fhir/metadata?_pretty=true")).Content.ReadAsStringAsync();
        compact.Should().NotContain("\n");
        pretty.Should().Contain("\n  \"resourceType\"");
    }

    [Fact]
    public async Task Prefer_return_minimal_and_operation_outcome()
    {
        var minimal = new HttpRequestMessage(HttpMethod.Post, "fhir/Patient") { Content = TestGateway.Json(TestData.ToJson(TestData.Subject("P-1"))) };
        minimal.Headers.Add("Prefer", "return=minimal");
        var minimalResponse = await Http.SendAsync(minimal);
        minimalResponse.StatusCode.Should().Be(HttpStatusCode.Created);
        (await minimalResponse.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        minimalResponse.Headers.Location.Should().NotBeNull();
        minimalResponse.Headers.ETag!.ToString().Should().Be("W/\"1\"");

        var outcome = new HttpRequestMessage(HttpMethod.Post, "fhir/Patient") { Content = TestGateway.Json(TestData.ToJson(TestData.Subject("P-2"))) };
        outcome.Headers.Add("Prefer", "return=OperationOutcome");
        var outcomeResponse = await Http.SendAsync(outcome);
        outcomeResponse.StatusCode.Should().Be(HttpStatusCode.Created);
        (await TestData.ReadAsync<OperationOutcome>(outcomeResponse)).Issue.Single().Severity.Should().Be(OperationOutcome.IssueSeverity.Information);
    }

    [Fact]
    public async Task Non_ascii_text_round_trips_unescaped()
    {
        var patient = TestData.Subject("U-ß");
        patient.Identifier[0].Value = "Zürich-北京-1";
        var created = await Http.PostAsync("fhir/Patient", TestGateway.Json(TestData.ToJson(patient)));
        var text = await created.Content.ReadAsStringAsync();
        text.Should().Contain("Zürich-北京-1");
    }
}
