using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Bundles;

/// <summary>
/// Large bundles wait their turn instead of all being parsed at once: with one large bundle at a time, concurrent
/// large transactions all complete, each whole, and small ones pass beside them; with no room to wait, 503.
/// </summary>
public sealed class LargeBundleGateTests : GatewayTest
{
    protected override string[] Settings => ["Bundles:MaxConcurrentLarge=1", "Bundles:LargeBodyBytes=20000"];

    [Fact]
    public async Task Concurrent_large_transactions_take_turns_and_all_complete_whole()
    {
        var large = Enumerable.Range(0, 6).Select(i => TestData.ToJson(VisitBundles.Visit($"G-{i}", observations: 60))).ToArray();
        var small = Enumerable.Range(0, 6).Select(i => TestData.ToJson(VisitBundles.Visit($"S-{i}", observations: 1))).ToArray();
        large.Should().OnlyContain(json => json.Length >= 20_000, "the large bundles must be over the gate's threshold");
        small.Should().OnlyContain(json => json.Length < 20_000);

        var responses = await System.Threading.Tasks.Task.WhenAll(large.Concat(small)
            .Select(json => Http.PostAsync("fhir", TestGateway.Json(json))));

        responses.Select(r => r.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.OK);
        foreach (var response in responses)
        {
            var result = await TestData.ReadAsync<Bundle>(response);
            result.Entry.Should().OnlyContain(e => e.Response.Status.StartsWith("201", StringComparison.Ordinal));
        }

        var observations = await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Observation?_summary=count"));
        observations.Total.Should().Be((6 * 60) + (6 * 1));
    }
}

public sealed class LargeBundleQueueFullTests : GatewayTest
{
    protected override string[] Settings => ["Bundles:MaxConcurrentLarge=1", "Bundles:MaxQueuedLarge=0", "Bundles:LargeBodyBytes=1000"];

    [Fact]
    public async Task A_large_bundle_with_no_room_to_wait_is_503_with_an_OperationOutcome_and_writes_nothing()
    {
        var bodies = Enumerable.Range(0, 8).Select(i => TestData.ToJson(VisitBundles.Visit($"Q-{i}", observations: 150))).ToArray();

        var responses = await System.Threading.Tasks.Task.WhenAll(bodies.Select(json => Http.PostAsync("fhir", TestGateway.Json(json))));

        responses.Select(r => r.StatusCode).Should().OnlyContain(s => s == HttpStatusCode.OK || s == HttpStatusCode.ServiceUnavailable);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        refused.Should().NotBeEmpty("eight bundles at once cannot all hold the single turn");
        foreach (var response in refused)
        {
            (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Diagnostics.Should().Contain("Bundles:MaxQueuedLarge");
        }

        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var observations = await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Observation?_summary=count"));
        observations.Total.Should().Be(accepted * 150, "a refused bundle writes nothing");
    }
}
