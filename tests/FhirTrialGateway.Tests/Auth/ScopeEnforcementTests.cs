using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>
/// SMART v1 and v2 scopes enforced per interaction and per resource type through real tokens: the instance and type
/// interactions, and every entry of a transaction or batch.
/// </summary>
public sealed class ScopeEnforcementTests : GatewayTest
{
    private static readonly TestClientKey Key = TestClientKey.Es384();

    protected override string[] Settings => AuthSettings.SecuredWith(
        AuthSettings.Client(0, "ehr", "hospital", "SITE-A", "system/*.cruds", Key),
        AuthSettings.Client(1, "v1-ehr", "hospital", "SITE-A", "system/*.*", Key));

    private Task<string> TokenAsync(string client, string scope = "system/*.cruds") =>
        AuthorizedCalls.TokenAsync(Http, Gateway.BaseUri, Key, client, scope);

    private Task<HttpResponseMessage> Send(string token, HttpMethod method, string path, Resource? body = null, string? ifNoneExist = null) =>
        AuthorizedCalls.SendAsync(Http, token, method, path, body, ifNoneExist);

    private async Task<string> CreateObservationAsync()
    {
        var response = await Send(await TokenAsync("ehr", "system/Observation.c"), HttpMethod.Post, "fhir/Observation", TestData.WalkingDistance("p", 1));
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (await TestData.ReadAsync<Observation>(response)).Id!;
    }

    [Theory]
    [InlineData("ehr", "system/Observation.rs", "read", HttpStatusCode.OK)]
    [InlineData("ehr", "system/Observation.rs", "vread", HttpStatusCode.OK)]
    [InlineData("ehr", "system/Observation.rs", "create", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/Observation.rs", "update", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/Observation.rs", "delete", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/Observation.cud", "read", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/Observation.cud", "create", HttpStatusCode.Created)]
    [InlineData("ehr", "system/Observation.cud", "update", HttpStatusCode.OK)]
    [InlineData("ehr", "system/Observation.cud", "delete", HttpStatusCode.NoContent)]
    [InlineData("ehr", "system/Observation.c", "conditional-create", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/Observation.cs", "conditional-create", HttpStatusCode.Created)]
    [InlineData("ehr", "system/Patient.cruds", "read", HttpStatusCode.Forbidden)]
    [InlineData("ehr", "system/*.r", "read", HttpStatusCode.OK)]
    [InlineData("v1-ehr", "system/Observation.read", "read", HttpStatusCode.OK)]
    [InlineData("v1-ehr", "system/Observation.read", "create", HttpStatusCode.Forbidden)]
    [InlineData("v1-ehr", "system/Observation.write", "read", HttpStatusCode.Forbidden)]
    [InlineData("v1-ehr", "system/Observation.write", "create", HttpStatusCode.Created)]
    [InlineData("v1-ehr", "system/Observation.write", "delete", HttpStatusCode.NoContent)]
    [InlineData("v1-ehr", "system/*.*", "update", HttpStatusCode.OK)]
    [InlineData("v1-ehr", "system/Patient.*", "update", HttpStatusCode.Forbidden)]
    public async Task Each_interaction_needs_its_scope(string client, string scope, string interaction, HttpStatusCode expected)
    {
        var id = await CreateObservationAsync();
        var token = await TokenAsync(client, scope);
        var observation = TestData.WalkingDistance("p", 2, identifier: "scoped-1");
        var response = interaction switch
        {
            "read" => await Send(token, HttpMethod.Get, $"fhir/Observation/{id}"),
            "vread" => await Send(token, HttpMethod.Get, $"fhir/Observation/{id}/_history/1"),
            "create" => await Send(token, HttpMethod.Post, "fhir/Observation", observation),
            "conditional-create" => await ConditionalCreate(token, observation),
            "update" => await Send(token, HttpMethod.Put, $"fhir/Observation/{id}", WithId(observation, id)),
            "delete" => await Send(token, HttpMethod.Delete, $"fhir/Observation/{id}"),
            _ => throw new ArgumentOutOfRangeException(nameof(interaction)),
        };

        response.StatusCode.Should().Be(expected, await response.Content.ReadAsStringAsync());
        if (expected == HttpStatusCode.Forbidden)
        {
            (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Code.Should().Be(OperationOutcome.IssueType.Forbidden);
        }
    }

    [Fact]
    public async Task A_transaction_with_one_entry_outside_the_scopes_is_refused_whole_and_a_batch_refuses_that_entry_only()
    {
        var token = await TokenAsync("ehr", "system/Observation.c");
        Bundle Make(Bundle.BundleType type) => new()
        {
            Type = type,
            Entry =
            [
                new() { Resource = TestData.WalkingDistance("p", 3), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" } },
                new() { Resource = TestData.Subject("S-1"), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
            ],
        };

        var transaction = await Send(token, HttpMethod.Post, "fhir", Make(Bundle.BundleType.Transaction));
        transaction.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await TestData.ReadAsync<OperationOutcome>(transaction)).Issue.Single().Expression.Single().Should().Be("Bundle.entry[1]");

        var batch = await TestData.ReadAsync<Bundle>(await Send(token, HttpMethod.Post, "fhir", Make(Bundle.BundleType.Batch)));
        batch.Entry.Select(e => e.Response.Status).Should().Equal("201 Created", "403");

        var reader = await TokenAsync("ehr", "system/Observation.rs");
        var count = await TestData.ReadAsync<Bundle>(await Send(reader, HttpMethod.Get, "fhir/Observation?_summary=count"));
        count.Total.Should().Be(1, "only the batch's permitted entry was written");
    }

    [Fact]
    public async Task Search_history_includes_and_the_audit_trail_follow_the_scopes()
    {
        var writer = await TokenAsync("ehr", "system/*.cruds");
        var patient = await TestData.ReadAsync<Patient>(await Send(writer, HttpMethod.Post, "fhir/Patient", TestData.Subject("S-9")));
        var observation = TestData.WalkingDistance(patient.Id!, 10);
        (await Send(writer, HttpMethod.Post, "fhir/Observation", observation)).StatusCode.Should().Be(HttpStatusCode.Created);

        var readOnly = await TokenAsync("ehr", "system/Observation.r");
        (await Send(readOnly, HttpMethod.Get, "fhir/Observation?code=165263003")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "search needs s");
        (await Send(readOnly, HttpMethod.Get, "fhir/Observation/_history")).StatusCode.Should().Be(HttpStatusCode.OK, "history needs r");

        var observationsOnly = await TokenAsync("ehr", "system/Observation.rs");
        var bundle = await TestData.ReadAsync<Bundle>(await Send(observationsOnly, HttpMethod.Get, "fhir/Observation?_include=Observation:subject"));
        bundle.Entry.Should().ContainSingle(e => e.Search.Mode == Bundle.SearchEntryMode.Match);
        bundle.Entry.Should().NotContain(e => e.Resource is Patient, "the token may not read Patients, so none is included");

        var everything = await TokenAsync("ehr", "system/*.cruds");
        var withPatient = await TestData.ReadAsync<Bundle>(await Send(everything, HttpMethod.Get, "fhir/Observation?_include=Observation:subject"));
        withPatient.Entry.Should().Contain(e => e.Resource is Patient);

        (await Send(everything, HttpMethod.Get, "fhir/_history")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "system history is for admins");
        (await Send(everything, HttpMethod.Get, "fhir?_lastUpdated=gt2000-01-01")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Send(everything, HttpMethod.Get, "fhir?_type=Patient")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Send(everything, HttpMethod.Get, "fhir/AuditEvent")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "the audit trail is for admins");
        (await Send(everything, HttpMethod.Get, "fhir?_type=AuditEvent")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    private static Observation WithId(Observation observation, string id)
    {
        observation.Id = id;
        return observation;
    }

    private Task<HttpResponseMessage> ConditionalCreate(string token, Observation observation) =>
        Send(token, HttpMethod.Post, "fhir/Observation", observation, "identifier=urn:trial:obs|scoped-1");
}
