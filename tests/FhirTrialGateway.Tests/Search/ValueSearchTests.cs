using System.Net;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>String, number, quantity, uri and composite search (R4 3.1.1.4.1, .3, .4, .6, .8, .9).</summary>
public sealed class ValueSearchTests : SearchTest
{
    [Fact]
    public async Task Strings_start_with_ignoring_case_and_accents_or_match_exactly_or_contain()
    {
        var eve = await CreateAsync(new Patient { Name = [new HumanName { Family = "Chalmers", Given = ["Peter", "James"] }] });
        var zoe = await CreateAsync(new Patient
        {
            Name = [new HumanName { Family = "Zoë-Müller", Given = ["Éloïse"] }],
            Address = [new Address { City = "Köln", PostalCode = "50667" }],
        });

        (await IdsAsync("Patient?family=chal")).Should().Equal(eve);
        (await IdsAsync("Patient?given=JAM")).Should().Equal(eve);
        (await IdsAsync("Patient?name=eloise")).Should().Equal(zoe);
        (await IdsAsync("Patient?family=zoe-mul")).Should().Equal(zoe);
        (await IdsAsync("Patient?family=halmers")).Should().BeEmpty("the default match is starts-with");
        (await IdsAsync("Patient?family:contains=ALME")).Should().Equal(eve);
        (await IdsAsync("Patient?family:exact=Chalmers")).Should().Equal(eve);
        (await IdsAsync("Patient?family:exact=chalmers")).Should().BeEmpty(":exact is case-sensitive");
        (await IdsAsync("Patient?address-city=koln")).Should().Equal(zoe);
        (await IdsAsync("Patient?address=50667")).Should().Equal(zoe);
        (await IdsAsync("Patient?family=xyz,chal")).Should().Equal(eve);
        (await IdsAsync("Patient?family=chal&given=eloise")).Should().BeEmpty("repeated parameters AND");
    }

    [Fact]
    public async Task Numbers_and_quantities_compare_with_prefixes_and_precision()
    {
        var low = await CreateAsync(new RiskAssessment { Status = ObservationStatus.Final, Subject = new ResourceReference("Patient/x"), Prediction = [new RiskAssessment.PredictionComponent { Probability = new FhirDecimal(0.25m) }] });
        var high = await CreateAsync(new RiskAssessment { Status = ObservationStatus.Final, Subject = new ResourceReference("Patient/x"), Prediction = [new RiskAssessment.PredictionComponent { Probability = new FhirDecimal(0.8m) }] });
        (await IdsAsync("RiskAssessment?probability=0.25")).Should().Equal(low);
        (await IdsAsync("RiskAssessment?probability=0.3")).Should().Equal(["" + low], "0.3 stands for [0.25, 0.35)");
        (await IdsAsync("RiskAssessment?probability=0.30")).Should().BeEmpty("0.30 stands for [0.295, 0.305)");
        (await IdsAsync("RiskAssessment?probability=gt0.5")).Should().Equal(high);
        (await IdsAsync("RiskAssessment?probability=lt0.25")).Should().BeEmpty();
        (await IdsAsync("RiskAssessment?probability=le0.25")).Should().Equal(low);
        (await IdsAsync("RiskAssessment?probability=ap0.75")).Should().Equal(high);
        (await IdsAsync("RiskAssessment?probability=gt0.1&probability=lt0.5")).Should().Equal(low);
        (await StatusAsync("RiskAssessment?probability=high")).Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Quantities_match_value_system_and_code()
    {
        var metres = await CreateAsync(TestObservation(5.4m, "mg", "http://unitsofmeasure.org", "mg"));
        var big = await CreateAsync(TestObservation(120m, "mmHg", "http://unitsofmeasure.org", "mm[Hg]"));
        (await IdsAsync("Observation?value-quantity=5.4|http://unitsofmeasure.org|mg")).Should().Equal(metres);
        (await IdsAsync("Observation?value-quantity=5.4||mg")).Should().Equal(metres);
        (await IdsAsync("Observation?value-quantity=5.4")).Should().Equal(metres);
        (await IdsAsync("Observation?value-quantity=5.41")).Should().BeEmpty("5.41 stands for [5.405, 5.415)");
        (await IdsAsync("Observation?value-quantity=5")).Should().Equal(["" + metres], "5 stands for [4.5, 5.5)");
        (await IdsAsync("Observation?value-quantity=gt100")).Should().Equal(big);
        (await IdsAsync("Observation?value-quantity=le5.4")).Should().Equal(metres);
        (await IdsAsync("Observation?value-quantity=lt5.4")).Should().BeEmpty();
        (await IdsAsync("Observation?value-quantity=ap110")).Should().Equal(big);
        (await IdsAsync("Observation?value-quantity=ne120")).Should().Equal(metres);
        (await IdsAsync("Observation?value-quantity=gt1|http://unitsofmeasure.org|mm[Hg]")).Should().Equal(big);
        (await StatusAsync("Observation?value-quantity=abc")).Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Composite_code_value_quantity_pairs_the_code_with_its_own_value()
    {
        var panel = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "85354-9"),
            Component =
            [
                new Observation.ComponentComponent { Code = new CodeableConcept("http://loinc.org", "8480-6"), Value = new Quantity(150, "mm[Hg]", "http://unitsofmeasure.org") },
                new Observation.ComponentComponent { Code = new CodeableConcept("http://loinc.org", "8462-4"), Value = new Quantity(70, "mm[Hg]", "http://unitsofmeasure.org") },
            ],
        };
        var id = await CreateAsync(panel);
        var simple = await CreateAsync(TestObservation(150m, "mm[Hg]", "http://unitsofmeasure.org", "mm[Hg]", "8480-6"));

        (await IdsAsync("Observation?component-code-value-quantity=http://loinc.org|8480-6$gt140")).Should().Equal(id);
        (await IdsAsync("Observation?component-code-value-quantity=http://loinc.org|8462-4$gt140")).Should().BeEmpty(
            "70 belongs to 8462-4; 150 belongs to the other component");
        (await IdsAsync("Observation?code-value-quantity=http://loinc.org|8480-6$150")).Should().Equal(simple);
        (await IdsAsync("Observation?combo-code-value-quantity=8480-6$ge150")).Should().BeEquivalentTo([id, simple]);
        (await StatusAsync("Observation?code-value-quantity=8480-6")).Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Uris_match_exactly_below_and_above()
    {
        var vs = await CreateAsync(new ValueSet { Status = PublicationStatus.Active, Url = "http://acme.org/fhir/ValueSet/123" });
        await CreateAsync(new ValueSet { Status = PublicationStatus.Active, Url = "http://other.org/fhir/ValueSet/9" });
        (await IdsAsync("ValueSet?url=http://acme.org/fhir/ValueSet/123")).Should().Equal(vs);
        (await IdsAsync("ValueSet?url=http://acme.org/fhir/ValueSet")).Should().BeEmpty();
        (await IdsAsync("ValueSet?url:below=http://acme.org/fhir/")).Should().Equal(vs);
        (await IdsAsync("ValueSet?url:above=http://acme.org/fhir/ValueSet/123/_history/5")).Should().Equal(vs);
        (await IdsAsync("Patient?_profile=http://hl7.org/fhir/StructureDefinition/Patient")).Should().BeEmpty();
    }

    private static Observation TestObservation(decimal value, string unit, string system, string code, string loinc = "2339-0") => new()
    {
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", loinc),
        Value = new Quantity(value, code, system) { Unit = unit },
    };
}
