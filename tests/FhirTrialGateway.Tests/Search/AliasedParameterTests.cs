using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>
/// Parameters that the index stores as other parameters' rows (IndexAlias: Observation's combo-* as the union of the
/// plain and component parameters, composites included, patient as subject restricted to Patient) answer exactly as if they had rows of
/// their own, in every place a search names a parameter.
/// </summary>
public sealed class AliasedParameterTests : SearchTest
{
    private async Task<(string Alice, string Plain, string Panel, string GroupObs, string AbsoluteObs)> SeedAsync()
    {
        var alice = await CreateAsync(new Patient { Identifier = [new Identifier("urn:trial:subject", "AL-1")] });
        var group = await CreateAsync(new Group { Type = Group.GroupType.Person, Actual = true });
        var plain = await CreateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4", "Heart rate", "Heart rate"),
            Subject = new ResourceReference($"Patient/{alice}") { Identifier = new Identifier("urn:trial:subject", "AL-1") },
            Value = new Quantity(72, "/min", "http://unitsofmeasure.org"),
        });
        var panel = await CreateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "85354-9", "Blood pressure panel"),
            Subject = new ResourceReference($"Patient/{alice}"),
            Component =
            [
                new Observation.ComponentComponent
                {
                    Code = new CodeableConcept("http://loinc.org", "8480-6", "Systolic blood pressure"),
                    Value = new Quantity(140, "mm[Hg]", "http://unitsofmeasure.org"),
                },
            ],
        });
        var groupObs = await CreateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Subject = new ResourceReference($"Group/{group}"),
        });
        var absoluteObs = await CreateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "29463-7"),
            Subject = new ResourceReference("https://other.example/fhir/Patient/77"),
        });
        return (alice, plain, panel, groupObs, absoluteObs);
    }

    [Fact]
    public async Task Combo_parameters_match_the_resource_and_its_components()
    {
        var s = await SeedAsync();
        (await IdsAsync("Observation?combo-code=8480-6")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?combo-code=http://loinc.org|85354-9")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?combo-code=8867-4")).Should().BeEquivalentTo([s.Plain, s.GroupObs]);
        (await IdsAsync("Observation?combo-code:text=systolic")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?combo-code:text=heart")).Should().Equal(s.Plain);
        (await IdsAsync("Observation?combo-value-quantity=gt100")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?combo-value-quantity=72||/min")).Should().Equal(s.Plain);
        (await IdsAsync("Observation?combo-code-value-quantity=8480-6$gt100")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?combo-code-value-quantity=http://loinc.org|8867-4$72")).Should().Equal(s.Plain);
        (await IdsAsync("Observation?code-value-quantity=8480-6$gt100")).Should().BeEmpty("the systolic value is a component's");
        (await IdsAsync("Observation?combo-code:missing=true")).Should().BeEmpty();
        (await IdsAsync("Observation?combo-value-quantity:missing=true")).Should().BeEquivalentTo([s.GroupObs, s.AbsoluteObs]);
    }

    [Fact]
    public async Task Patient_matches_subjects_that_are_patients_only()
    {
        var s = await SeedAsync();
        (await IdsAsync($"Observation?patient={s.Alice}")).Should().BeEquivalentTo([s.Plain, s.Panel]);
        (await IdsAsync($"Observation?patient=Patient/{s.Alice}&combo-code=8480-6")).Should().Equal(s.Panel);
        (await IdsAsync("Observation?patient=https://other.example/fhir/Patient/77")).Should().Equal(s.AbsoluteObs);
        (await IdsAsync("Observation?patient:missing=true")).Should().BeEquivalentTo([s.GroupObs], "a Group subject is no patient");
        (await IdsAsync("Observation?patient:missing=false")).Should().BeEquivalentTo([s.Plain, s.Panel, s.AbsoluteObs]);
        (await IdsAsync("Observation?patient:identifier=urn:trial:subject|AL-1")).Should().Equal(s.Plain);
        (await IdsAsync("Observation?patient.identifier=AL-1")).Should().BeEquivalentTo([s.Plain, s.Panel]);
        (await IdsAsync("Patient?_has:Observation:patient:combo-code=8480-6")).Should().Equal(s.Alice);
        (await IdsAsync($"Patient/{s.Alice}/Observation")).Should().BeEquivalentTo([s.Plain, s.Panel]);
    }

    [Fact]
    public async Task Includes_follow_patient_through_the_subject_rows()
    {
        var s = await SeedAsync();
        var included = await SearchAsync($"Observation?_id={s.Plain},{s.GroupObs}&_include=Observation:patient");
        IncludedIds(included).Should().Equal(s.Alice);

        var revincluded = await SearchAsync($"Patient?_id={s.Alice}&_revinclude=Observation:patient");
        IncludedIds(revincluded)
            .Should().BeEquivalentTo([s.Plain, s.Panel]);

        var everything = await SearchAsync($"Observation?_id={s.Panel}&_include=Observation:*");
        IncludedIds(everything).Should().Equal(s.Alice);
    }
}
