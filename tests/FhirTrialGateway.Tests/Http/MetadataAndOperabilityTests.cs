using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FhirTrialGateway.Tests.Http;

public sealed class MetadataAndOperabilityTests : GatewayTest
{
    [Fact]
    public void Settings_files_are_read_once_and_not_watched()
    {
        // Watching them means watching the content root and every folder under it, the default database's included:
        // each WAL write then woke the file watcher (a quarter of the create rate, docs/benchmarks.md).
        var configuration = (IConfigurationRoot)Gateway.Services.GetRequiredService<IConfiguration>();
        var files = configuration.Providers.OfType<FileConfigurationProvider>().ToList();
        files.Should().NotBeEmpty("appsettings.json is one of the gateway's configuration sources");
        files.Should().OnlyContain(file => !file.Source.ReloadOnChange);
    }

    [Fact]
    public async Task CapabilityStatement_states_version_formats_and_interactions_per_type()
    {
        var statement = await Gateway.FhirClient().CapabilityStatementAsync();
        statement!.FhirVersion.Should().Be(FHIRVersion.N4_0_1);
        statement.Kind.Should().Be(CapabilityStatementKind.Instance);
        statement.Format.Should().Contain(["json", "xml"]);
        var rest = statement.Rest.Single();
        rest.Interaction.Select(i => i.Code).Should().Contain([
            CapabilityStatement.SystemRestfulInteraction.HistorySystem, CapabilityStatement.SystemRestfulInteraction.Transaction,
            CapabilityStatement.SystemRestfulInteraction.Batch,
        ]);
        rest.Resource.Should().HaveCount(Core.Fhir.FhirModel.ResourceTypes.Count);

        var observation = rest.Resource.Single(r => r.Type == "Observation");
        observation.Versioning.Should().Be(CapabilityStatement.ResourceVersionPolicy.VersionedUpdate);
        observation.ConditionalCreate.Should().BeTrue();
        observation.ConditionalUpdate.Should().BeTrue();
        observation.UpdateCreate.Should().BeTrue();
        observation.Interaction.Select(i => i.Code).Should().Contain([
            CapabilityStatement.TypeRestfulInteraction.Create, CapabilityStatement.TypeRestfulInteraction.Read,
            CapabilityStatement.TypeRestfulInteraction.Vread, CapabilityStatement.TypeRestfulInteraction.Update,
            CapabilityStatement.TypeRestfulInteraction.Delete, CapabilityStatement.TypeRestfulInteraction.HistoryInstance,
            CapabilityStatement.TypeRestfulInteraction.HistoryType, CapabilityStatement.TypeRestfulInteraction.SearchType,
        ]);
        observation.SearchParam.Select(p => p.Name).Should().Contain(["_id", "identifier"]);
        observation.Operation.Select(o => o.Name).Should().Contain("validate");
        rest.Resource.Single(r => r.Type == "Binary").SearchParam.Select(p => p.Name).Should().NotContain("identifier",
            "Binary defines no identifier parameter");
    }

    [Fact]
    public async Task Health_and_readiness_answer()
    {
        (await Http.GetAsync("healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.GetAsync("readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task History_pages_at_system_and_type_level_without_repeats_while_writes_continue()
    {
        var client = Gateway.FhirClient();
        for (var i = 0; i < 5; i++)
        {
            await client.CreateAsync(TestData.Subject($"H-{i}"));
            await client.CreateAsync(TestData.WalkingDistance("x", i));
        }

        var seen = new List<string>();
        var page = await client.TypeHistoryAsync<Patient>(pageSize: 2);
        while (page is not null)
        {
            page.Entry.Should().OnlyContain(e => e.Resource is Patient);
            seen.AddRange(page.Entry.Select(e => e.Resource.Id));
            await client.CreateAsync(TestData.Subject("H-late"));
            page = await client.ContinueAsync(page);
        }

        seen.Should().HaveCount(5).And.OnlyHaveUniqueItems();

        var system = await client.WholeSystemHistoryAsync(pageSize: 100);
        system!.Entry.Should().HaveCountGreaterThanOrEqualTo(10);
        system.Entry.Select(e => e.Resource.Meta.LastUpdated).Should().BeInDescendingOrder();

        var since = await TestData.ReadAsync<Bundle>(await Http.GetAsync($"fhir/_history?_since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("o"))}"));
        since.Entry.Should().BeEmpty();
    }
}

/// <summary>The default configuration is the safe one: authentication on.</summary>
public sealed class DefaultSecurityTests : GatewayTest
{
    protected override string[] Settings => ["Auth:Enabled=true"];

    [Fact]
    public async Task Api_refuses_anonymous_calls_with_401_and_an_OperationOutcome_but_metadata_is_public()
    {
        var response = await Http.GetAsync("fhir/Patient");
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Code.Should().Be(OperationOutcome.IssueType.Login);

        (await Http.PostAsync("fhir/Patient", TestGateway.Json(TestData.ToJson(TestData.Subject("S-1"))))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var forged = new HttpRequestMessage(HttpMethod.Get, "fhir/Patient");
        forged.Headers.Authorization = new("Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
        (await Http.SendAsync(forged)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var metadata = await Http.GetAsync("fhir/metadata");
        metadata.StatusCode.Should().Be(HttpStatusCode.OK);
        var security = (await TestData.ReadAsync<CapabilityStatement>(metadata)).Rest.Single().Security;
        security.Service.Single().Coding.Single().Code.Should().Be("SMART-on-FHIR");
        security.Extension.Single().Extension.Single(e => e.Url == "token").Value.ToString().Should().EndWith("/auth/token");
    }
}
