using Hl7.Fhir.Model;

namespace FhirTrialGateway.Bench;

/// <summary>The resources the benchmarks send: a typical trial Observation of about 1 KB.</summary>
internal static class SampleResources
{
    /// <param name="claimsProfile">
    /// Whether meta.profile claims the trial's walking-distance profile. A claim makes the gateway validate the
    /// resource on write (issue 6, measured by the validation benchmark); the core, bundle and search benchmarks
    /// send unclaimed Observations so that they measure storage, indexing and HTTP, not the validator.
    /// </param>
    public static Observation Observation(int subject, int n, bool claimsProfile = false)
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Identifier = [new Identifier("urn:epc-cli:obs", $"S{subject:D5}-V3-WALK-{n}")],
            Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/observation-category", "exam", "Exam")],
            Code = new CodeableConcept("http://snomed.info/sct", "165263003", "Walking distance", "Painless walking distance"),
            Subject = new ResourceReference($"Patient/epc-{subject:D5}"),
            Encounter = new ResourceReference($"Encounter/epc-{subject:D5}-month-6"),
            Effective = new FhirDateTime(2026, 3, 1, 10, 30, 0, TimeSpan.Zero),
            Issued = new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero),
            Performer = [new ResourceReference("PractitionerRole/site-beijing-investigator")],
            Value = new Quantity(180 + (n % 200), "m", "http://unitsofmeasure.org"),
            Interpretation = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "N", "Normal")],
            Method = new CodeableConcept("http://snomed.info/sct", "252466004", "Treadmill test"),
            Note = [new Annotation { Text = new Markdown("Measured on a treadmill at 3.2 km/h, 0% grade; stopped at first calf pain.") }],
        };
        if (claimsProfile)
        {
            observation.Meta = new Meta { Profile = ["https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/walking-distance"] };
        }

        observation.Extension.Add(new Extension("http://hl7.org/fhir/StructureDefinition/workflow-researchStudy",
            new ResourceReference("ResearchStudy/epc-cli")));
        return observation;
    }
}
