using System.Net;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Reference search (R4 3.1.1.4.10): forms, :Type, chains, _has reverse chains and compartments.</summary>
public sealed class ReferenceSearchTests : SearchTest
{
    private async Task<(string Alice, string Bob, string AliceObs, string BobObs, string GroupObs)> SeedAsync()
    {
        var alice = await CreateAsync(new Patient { Identifier = [new Identifier("urn:trial:subject", "EPC-001")], Name = [new HumanName { Family = "Alvarez" }] });
        var bob = await CreateAsync(new Patient { Identifier = [new Identifier("urn:trial:subject", "EPC-002")], Name = [new HumanName { Family = "Brown" }] });
        var aliceObs = await CreateAsync(Obs($"Patient/{alice}", "8480-6"));
        var bobObs = await CreateAsync(Obs($"Patient/{bob}", "8462-4"));
        var group = await CreateAsync(new Group { Type = Group.GroupType.Person, Actual = true });
        var groupObs = await CreateAsync(Obs($"Group/{group}", "8480-6"));
        return (alice, bob, aliceObs, bobObs, groupObs);
    }

    private static Observation Obs(string subject, string code) => new()
    {
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", code),
        Subject = new ResourceReference(subject),
        Performer = [new ResourceReference { Identifier = new Identifier("urn:npi", "123") }],
    };

    [Fact]
    public async Task References_match_as_type_and_id_id_absolute_url_and_type_modifier()
    {
        var s = await SeedAsync();
        (await IdsAsync($"Observation?subject=Patient/{s.Alice}")).Should().Equal(s.AliceObs);
        (await IdsAsync($"Observation?subject={s.Alice}")).Should().Equal(s.AliceObs);
        (await IdsAsync($"Observation?subject={Gateway.FhirBase}/Patient/{s.Alice}")).Should().Equal(s.AliceObs);
        (await IdsAsync($"Observation?subject:Patient={s.Bob}")).Should().Equal(s.BobObs);
        (await IdsAsync($"Observation?patient={s.Alice}")).Should().Equal(s.AliceObs);
        (await IdsAsync($"Observation?subject=Patient/{s.Alice},Patient/{s.Bob}")).Should().BeEquivalentTo([s.AliceObs, s.BobObs]);
        (await IdsAsync("Observation?performer:identifier=urn:npi|123")).Should().HaveCount(3);
        (await IdsAsync("Observation?subject:missing=true")).Should().BeEmpty();
        (await StatusAsync("Observation?subject:Medication=1")).Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Chains_follow_references_to_the_parameters_of_the_target()
    {
        var s = await SeedAsync();
        (await IdsAsync("Observation?subject:Patient.identifier=urn:trial:subject|EPC-001")).Should().Equal(s.AliceObs);
        (await IdsAsync("Observation?subject.name=brown")).Should().Equal(s.BobObs);
        (await IdsAsync("Observation?patient.identifier=EPC-002&code=8462-4")).Should().Equal(s.BobObs);
        (await IdsAsync("Observation?subject:Patient.identifier=EPC-404")).Should().BeEmpty();
        (await IdsAsync("Observation?subject:Group.actual=true")).Should().Equal(s.GroupObs);
    }

    [Fact]
    public async Task Has_finds_resources_referred_to_by_matching_ones()
    {
        var s = await SeedAsync();
        (await IdsAsync("Patient?_has:Observation:subject:code=8480-6")).Should().Equal(s.Alice);
        (await IdsAsync("Patient?_has:Observation:patient:code=http://loinc.org|8462-4")).Should().Equal(s.Bob);
        (await IdsAsync("Patient?_has:Observation:subject:code=0000-0")).Should().BeEmpty();
        var study = await CreateAsync(new ResearchSubject { Status = ResearchSubject.ResearchSubjectStatus.OnStudy, Study = new ResourceReference("ResearchStudy/epc"), Individual = new ResourceReference($"Patient/{s.Bob}") });
        (await IdsAsync("Patient?_has:ResearchSubject:individual:status=on-study&_has:Observation:subject:code=8462-4")).Should().Equal(s.Bob);
        (await IdsAsync("Patient?_has:ResearchSubject:individual:_id=" + study)).Should().Equal(s.Bob);
    }

    [Fact]
    public async Task Compartment_search_returns_the_patients_resources()
    {
        var s = await SeedAsync();
        (await IdsAsync($"Patient/{s.Alice}/Observation")).Should().Equal(s.AliceObs);
        (await IdsAsync($"Patient/{s.Alice}/Observation?code=8462-4")).Should().BeEmpty();
        var bundle = await SearchAsync($"Patient/{s.Bob}/Observation?code=8462-4");
        bundle.Entry.Should().ContainSingle().Which.Resource.Id.Should().Be(s.BobObs);
        bundle.Link.Single(l => l.Relation == "self").Url.Should().Contain($"/Patient/{s.Bob}/Observation?code=8462-4");
    }
}
