using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Token search (R4 3.1.1.4.5): codes, system|code, |code, system|, :not, :text, identifiers, booleans, _tag.</summary>
public sealed class TokenSearchTests : SearchTest
{
    [Fact]
    public async Task Codings_match_in_the_four_token_forms()
    {
        var loinc = await CreateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept { Coding = [new Coding("http://loinc.org", "8480-6", "Systolic blood pressure")], Text = "Blood pressure systolic" },
        });
        var local = await CreateAsync(new Observation { Status = ObservationStatus.Preliminary, Code = new CodeableConcept { Coding = [new Coding(null, "8480-6")] } });
        var other = await CreateAsync(new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept("http://snomed.info/sct", "271649006") });

        (await IdsAsync("Observation?code=8480-6")).Should().BeEquivalentTo([loinc, local]);
        (await IdsAsync("Observation?code=http://loinc.org|8480-6")).Should().Equal(loinc);
        (await IdsAsync("Observation?code=|8480-6")).Should().Equal(local);
        (await IdsAsync("Observation?code=http://snomed.info/sct|")).Should().Equal(other);
        (await IdsAsync("Observation?code=http://loinc.org|8480-6,http://snomed.info/sct|271649006")).Should().BeEquivalentTo([loinc, other]);
        (await IdsAsync("Observation?code:not=8480-6")).Should().Equal(other);
        (await IdsAsync("Observation?status=final&code=8480-6")).Should().Equal(loinc);
        (await IdsAsync("Observation?code:text=systolic")).Should().Equal(loinc);
        (await IdsAsync("Observation?code:text=BLOOD%20PRESS")).Should().Equal(loinc);
        (await IdsAsync("Observation?code:missing=false&status:missing=false")).Should().HaveCount(3);
    }

    [Fact]
    public async Task Identifiers_booleans_and_meta_tags_are_tokens()
    {
        var active = await CreateAsync(new Patient
        {
            Active = true,
            Identifier = [new Identifier("urn:trial:subject", "EPC-001")],
            Meta = new Meta { Tag = [new Coding("urn:trial:site", "site-7")], Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")] },
            Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Email, null, "a@example.org")],
        });
        var inactive = await CreateAsync(new Patient { Active = false, Identifier = [new Identifier("urn:trial:subject", "EPC-002")] });

        (await IdsAsync("Patient?active=true")).Should().Equal(active);
        (await IdsAsync("Patient?active=false")).Should().Equal(inactive);
        (await IdsAsync("Patient?identifier=urn:trial:subject|EPC-002")).Should().Equal(inactive);
        (await IdsAsync("Patient?_tag=urn:trial:site|site-7")).Should().Equal(active);
        (await IdsAsync("Patient?_security=R")).Should().Equal(active);
        (await IdsAsync("Patient?email=a@example.org")).Should().Equal(active);
        (await IdsAsync("Patient?_tag:missing=true")).Should().Equal(inactive);
        (await IdsAsync($"Patient?_id={active},{inactive}&active:not=true")).Should().Equal(inactive);
    }

    [Fact]
    public async Task Updates_replace_and_deletes_remove_index_rows()
    {
        var id = await CreateAsync(new Patient { Id = "tok-1", Active = true });
        (await IdsAsync("Patient?active=true")).Should().Equal(id);
        await CreateAsync(new Patient { Id = "tok-1", Active = false });
        (await IdsAsync("Patient?active=true")).Should().BeEmpty("the superseded version's rows are gone");
        (await IdsAsync("Patient?active=false")).Should().Equal(id);
        (await Http.DeleteAsync("fhir/Patient/tok-1")).EnsureSuccessStatusCode();
        (await IdsAsync("Patient?active=false")).Should().BeEmpty();
    }
}
