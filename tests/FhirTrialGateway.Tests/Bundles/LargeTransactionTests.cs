using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Bundles;

/// <summary>Runs alone: it measures the test process's retained memory, which other tests running beside it would move.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

/// <summary>Large transactions complete, and memory does not grow with the number of bundles already processed.</summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class LargeTransactionTests : GatewayTest
{
    private static Bundle Observations(int count, string batch)
    {
        var patientUrl = $"urn:uuid:{Guid.NewGuid()}";
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = patientUrl,
            Resource = TestData.Subject($"{batch}-subject"),
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        for (var i = 1; i < count; i++)
        {
            var observation = TestData.WalkingDistance("x", i, identifier: $"{batch}-{i}");
            observation.Subject = new ResourceReference(patientUrl);
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = observation,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
            });
        }

        return bundle;
    }

    [Fact]
    public async Task A_10000_entry_transaction_completes_and_repeated_bundles_do_not_grow_memory()
    {
        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(Observations(10_000, "big"))));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var result = await TestData.ReadAsync<Bundle>(response);
        result.Entry.Should().HaveCount(10_000).And.OnlyContain(e => e.Response.Status == "201 Created");
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Observation?_summary=count"))).Total.Should().Be(9_999);

        var retained = new List<long>();
        for (var round = 0; round < 7; round++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "fhir") { Content = TestGateway.Json(TestData.ToJson(Observations(2_000, $"r{round}"))) };
            request.Headers.Add("Prefer", "return=minimal");
            (await Http.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
            retained.Add(GC.GetTotalMemory(forceFullCollection: true));
        }

        // The server runs in this process: what survives a full collection after each bundle must not keep growing.
        // The first rounds fill caches (connection pool, SDK metadata, compiled queries); a leak would keep growing
        // by about the size of a bundle (some MB) every round after that.
        (retained[^1] - retained[3]).Should().BeLessThan(16L * 1024 * 1024, $"retained memory after each bundle: {string.Join(", ", retained)}");
    }
}
