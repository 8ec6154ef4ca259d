using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;

namespace FhirTrialGateway.Tests.Bundles;

public sealed class TransactionTests : GatewayTest
{
    private Task<HttpResponseMessage> PostBundle(Bundle bundle) => Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(bundle)));

    private async Task<int> CountAsync(string query) =>
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync($"fhir/{query}{(query.Contains('?') ? "&" : "?")}_summary=count"))).Total!.Value;

    private async Task<int> VersionsStored() => (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/_history?_count=1000"))).DataEntries().Count;

    [Fact]
    public async Task FhirClient_transaction_builder_creates_all_and_rewrites_urn_uuid_references_everywhere()
    {
        var patientUrl = $"urn:uuid:{Guid.NewGuid()}";
        var observation = TestData.WalkingDistance("x", 240);
        observation.Subject = new ResourceReference(patientUrl);
        observation.Extension.Add(new Extension("http://example.org/fhir/StructureDefinition/about", new ResourceReference(patientUrl)));
        var contained = new Provenance { Target = [new ResourceReference(patientUrl)], Recorded = DateTimeOffset.UtcNow, Id = "prov" };
        contained.Agent.Add(new Provenance.AgentComponent { Who = new ResourceReference(patientUrl) });
        observation.Contained.Add(contained);

        var builder = new TransactionBuilder(Gateway.FhirBase, Bundle.BundleType.Transaction);
        builder.Create(TestData.Subject("T-1"));
        builder.Create(observation);
        var bundle = builder.ToBundle();
        bundle.Entry[0].FullUrl = patientUrl;

        var response = await Gateway.FhirClient().TransactionAsync(bundle);

        response!.Type.Should().Be(Bundle.BundleType.TransactionResponse);
        response.Entry.Should().HaveCount(2).And.OnlyContain(e => e.Response.Status == "201 Created" && e.Response.Etag == "W/\"1\"");
        var patientLocation = new Uri(response.Entry[0].Response.Location);
        var patientId = patientLocation.Segments[^3].TrimEnd('/');
        var stored = await Gateway.FhirClient().ReadAsync<Observation>(response.Entry[1].Response.Location);
        stored!.Subject.Reference.Should().Be($"Patient/{patientId}");
        ((ResourceReference)stored.Extension.Single().Value).Reference.Should().Be($"Patient/{patientId}");
        ((Provenance)stored.Contained.Single()).Target.Single().Reference.Should().Be($"Patient/{patientId}");
        ((Provenance)stored.Contained.Single()).Agent.Single().Who.Reference.Should().Be($"Patient/{patientId}");
    }

    [Fact]
    public async Task A_visit_bundle_is_idempotent_on_retry()
    {
        var firstResponse = await PostBundle(VisitBundles.Visit("V-1"));
        firstResponse.StatusCode.Should().Be(HttpStatusCode.OK, await firstResponse.Content.ReadAsStringAsync());
        var first = await TestData.ReadAsync<Bundle>(firstResponse);
        first.Entry.Should().OnlyContain(e => e.Response.Status == "201 Created");
        var versions = await VersionsStored();

        var again = await PostBundle(VisitBundles.Visit("V-1"));
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        (await TestData.ReadAsync<Bundle>(again)).Entry.Should().OnlyContain(e => e.Response.Status == "200 OK");
        (await VersionsStored()).Should().Be(versions, "a resent bundle changes nothing");

        var observation = (await Gateway.FhirClient().SearchAsync<Observation>(["identifier=V-1-month6-0"]))!.Entry.Single().Resource as Observation;
        var patient = (await Gateway.FhirClient().SearchAsync<Patient>(["identifier=V-1"]))!.Entry.Single().Resource;
        observation!.Subject.Reference.Should().Be($"Patient/{patient.Id}", "the conditional create's match is what urn:uuid points to on a retry");
    }

    [Fact]
    public async Task A_plain_create_pointing_at_a_conditional_create_that_matches_points_at_the_match_and_is_found_by_it()
    {
        // Creates are prepared (ids, rewritten references, index rows) before the transaction runs; when the
        // conditional create then finds its match, the Observation must point at the match, in its body and its index.
        Bundle Visit(string value)
        {
            var patientUrl = $"urn:uuid:{Guid.NewGuid()}";
            var observation = TestData.WalkingDistance("x", 300);
            observation.Identifier = [new Identifier("urn:trial:obs", value)];
            observation.Subject = new ResourceReference(patientUrl);
            var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = patientUrl,
                Resource = TestData.Subject("PREP-1"),
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient", IfNoneExist = "identifier=urn:trial:subject|PREP-1" },
            });
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = observation,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" },
            });
            return bundle;
        }

        (await PostBundle(Visit("first"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var second = await PostBundle(Visit("second"));
        second.StatusCode.Should().Be(HttpStatusCode.OK, await second.Content.ReadAsStringAsync());
        var entries = (await TestData.ReadAsync<Bundle>(second)).Entry;
        entries[0].Response.Status.Should().Be("200 OK");
        entries[1].Response.Status.Should().Be("201 Created");

        var patient = (await Gateway.FhirClient().SearchAsync<Patient>(["identifier=PREP-1"]))!.Entry.Single().Resource;
        var found = await Gateway.FhirClient().SearchAsync<Observation>([$"subject=Patient/{patient.Id}"]);
        found!.Entry.Select(e => ((Observation)e.Resource).Identifier.Single().Value).Should().BeEquivalentTo(["first", "second"]);
        found.Entry.Should().OnlyContain(e => ((Observation)e.Resource).Subject.Reference == $"Patient/{patient.Id}");
    }

    [Fact]
    public async Task The_same_bundle_sent_concurrently_many_times_makes_each_resource_once()
    {
        for (var round = 0; round < 4; round++)
        {
            var subject = $"RACE-{round}";
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostBundle(VisitBundles.Visit(subject))));
            responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
            (await CountAsync($"Patient?identifier={subject}")).Should().Be(1);
            (await CountAsync($"ResearchSubject?identifier={subject}")).Should().Be(1);
            (await CountAsync($"Observation?identifier=urn:trial:obs|{subject}-month6-3")).Should().Be(1);
            (await CountAsync($"AdverseEvent?_id={subject}-AE-1")).Should().Be(1);
        }
    }

    [Fact]
    public async Task One_failing_entry_fails_the_whole_transaction_and_nothing_is_stored()
    {
        var existing = await Gateway.FhirClient().CreateAsync(TestData.Subject("A-0"));
        var before = await VersionsStored();

        var bundle = VisitBundles.Visit("A-1");
        existing!.Gender = AdministrativeGender.Male;
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            Resource = existing,
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"Patient/{existing.Id}", IfMatch = "W/\"7\"" },
        });
        var response = await PostBundle(bundle);

        response.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        var outcome = await TestData.ReadAsync<OperationOutcome>(response);
        outcome.Issue.Single().Expression.Single().Should().StartWith("Bundle.entry[9]");
        outcome.Issue.Single().Diagnostics.Should().Contain("Entry 9");
        (await VersionsStored()).Should().Be(before, "the store is unchanged, not only the status");
        (await CountAsync("Patient?identifier=A-1")).Should().Be(0);
    }

    [Fact]
    public async Task An_invalid_resource_in_entry_17_is_400_naming_the_entry_and_nothing_is_stored()
    {
        var bundle = VisitBundles.Visit("B-1", observations: 20);
        var json = TestData.ToJson(bundle).Replace("\"status\":\"final\"", "\"status\":\"finished-ish\"", StringComparison.Ordinal);
        var response = await Http.PostAsync("fhir", TestGateway.Json(json));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var outcome = await TestData.ReadAsync<OperationOutcome>(response);
        outcome.Issue.Should().Contain(i => i.Expression.Contains("Bundle.entry[17].resource.status"));
        (await VersionsStored()).Should().Be(0);
    }

    [Fact]
    public async Task Conditional_references_resolve_with_one_match_and_fail_with_none_or_several()
    {
        var patient = await Gateway.FhirClient().CreateAsync(TestData.Subject("R-1"));
        Bundle WithReference(string reference)
        {
            var observation = TestData.WalkingDistance("x", 1);
            observation.Subject = new ResourceReference(reference);
            return new Bundle
            {
                Type = Bundle.BundleType.Transaction,
                Entry = [new Bundle.EntryComponent { Resource = observation, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" } }],
            };
        }

        var one = await TestData.ReadAsync<Bundle>(await PostBundle(WithReference("Patient?identifier=urn:trial:subject|R-1")));
        var stored = await Gateway.FhirClient().ReadAsync<Observation>(one.Entry[0].Response.Location);
        stored!.Subject.Reference.Should().Be($"Patient/{patient!.Id}");

        var none = await PostBundle(WithReference("Patient?identifier=urn:trial:subject|nobody"));
        none.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await TestData.ReadAsync<OperationOutcome>(none)).Issue.Single().Expression.Single().Should().Be("Bundle.entry[0]");

        await Gateway.FhirClient().CreateAsync(TestData.Subject("R-1"));
        (await PostBundle(WithReference("Patient?identifier=urn:trial:subject|R-1"))).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await CountAsync("Observation")).Should().Be(1);
    }

    [Fact]
    public async Task Two_entries_touching_the_same_identity_are_400()
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        foreach (var gender in new[] { AdministrativeGender.Male, AdministrativeGender.Female })
        {
            var patient = TestData.Subject("D-1");
            patient.Id = "same";
            patient.Gender = gender;
            bundle.Entry.Add(new Bundle.EntryComponent { Resource = patient, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = "Patient/same" } });
        }

        var response = await PostBundle(bundle);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Diagnostics.Should().Contain("Patient/same");
    }

    [Fact]
    public async Task Deletes_run_before_creates_and_gets_see_the_transactions_writes()
    {
        var old = await Gateway.FhirClient().CreateAsync(TestData.Subject("O-1"));
        var replacement = TestData.Subject("O-2");
        replacement.Id = "o-2";
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Patient/o-2" } },
                new() { Resource = replacement, Request = new() { Method = Bundle.HTTPVerb.PUT, Url = "Patient/o-2" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.DELETE, Url = $"Patient/{old!.Id}" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Patient?identifier=O-2" } },
            ],
        };

        var response = await TestData.ReadAsync<Bundle>(await PostBundle(bundle));
        response.Entry.Select(e => e.Response.Status).Should().Equal("200 OK", "201 Created", "204 No Content", "200 OK");
        ((Bundle)response.Entry[3].Resource).Entry.Should().ContainSingle();
        (await Http.GetAsync($"fhir/Patient/{old.Id}")).StatusCode.Should().Be(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task Concurrent_transactions_updating_one_resource_with_one_version_let_exactly_one_win()
    {
        var patient = await Gateway.FhirClient().CreateAsync(TestData.Subject("C-1"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
        {
            var copy = TestData.Subject("C-1");
            copy.Id = patient!.Id;
            copy.BirthDateElement = new Date(1930 + i);
            return PostBundle(new Bundle
            {
                Type = Bundle.BundleType.Transaction,
                Entry = [new() { Resource = copy, Request = new() { Method = Bundle.HTTPVerb.PUT, Url = $"Patient/{copy.Id}", IfMatch = "W/\"1\"" } }],
            });
        }));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed).Should().Be(9);
    }

    [Fact]
    public async Task Unresolvable_urn_uuid_reference_and_wrong_bundle_type_are_400()
    {
        var observation = TestData.WalkingDistance("x", 1);
        observation.Subject = new ResourceReference("urn:uuid:00000000-0000-0000-0000-000000000001");
        var dangling = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [new() { Resource = observation, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" } }],
        };
        (await PostBundle(dangling)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await PostBundle(new Bundle { Type = Bundle.BundleType.Collection })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(TestData.Subject("x"))))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }
}

public sealed class BatchAndLimitTests : GatewayTest
{
    protected override string[] Settings => ["Bundles:MaxEntries=12", "Bundles:MaxRequestBodyBytes=60000"];

    [Fact]
    public async Task Batch_entries_succeed_or_fail_independently()
    {
        var wrongType = TestData.Subject("W");
        var batch = new Bundle
        {
            Type = Bundle.BundleType.Batch,
            Entry =
            [
                new() { Resource = TestData.Subject("B-1"), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { Resource = wrongType, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.GET, Url = "Patient/missing" } },
                new() { Resource = TestData.Subject("B-2"), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { Request = new() { Method = Bundle.HTTPVerb.DELETE, Url = "Patient/whatever" } },
            ],
        };

        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(batch)));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var result = await TestData.ReadAsync<Bundle>(response);
        result.Type.Should().Be(Bundle.BundleType.BatchResponse);
        result.Entry.Select(e => e.Response.Status).Should().Equal("201 Created", "400", "404", "201 Created", "204 No Content");
        result.Entry[1].Response.Outcome.Should().BeOfType<OperationOutcome>()
            .Which.Issue.Single().Expression.Should().Contain(e => e.StartsWith("Bundle.entry[1]", StringComparison.Ordinal));
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Patient?_summary=count"))).Total.Should().Be(2);
    }

    [Fact]
    public async Task Too_many_entries_or_bytes_is_413()
    {
        var tooMany = VisitBundles.Visit("L-1", observations: 12);
        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(tooMany)));
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Single().Diagnostics.Should().Contain("Bundles:MaxEntries");

        var big = VisitBundles.Visit("L-2", observations: 2);
        ((Patient)big.Entry[0].Resource).Text = new Narrative
        {
            Status = Narrative.NarrativeStatus.Generated,
            Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\">{new string('x', 70_000)}</div>",
        };
        (await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(big)))).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/_history?_count=1000"))).DataEntries().Should().BeEmpty();
    }
}
