using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Bundles;

/// <summary>The bundle a hospital EHR pushes for one visit: subject, enrolment, observations, an adverse event.</summary>
internal static class VisitBundles
{
    /// <summary>
    /// Idempotent by design: every entry is a conditional create or update keyed on a business identifier, and
    /// every reference to the subject goes through the bundle-local urn:uuid. R4 defines no identifier search
    /// parameter for AdverseEvent, so the adverse event is keyed by a client-assigned id instead.
    /// </summary>
    public static Bundle Visit(string subject, int observations = 6, Bundle.BundleType type = Bundle.BundleType.Transaction)
    {
        var patientUrl = $"urn:uuid:{Guid.NewGuid()}";
        var bundle = new Bundle { Type = type };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = patientUrl,
            Resource = TestData.Subject(subject),
            Request = new Bundle.RequestComponent
            {
                Method = Bundle.HTTPVerb.POST,
                Url = "Patient",
                IfNoneExist = $"identifier=urn:trial:subject|{subject}",
            },
        });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            Resource = new ResearchSubject
            {
                Identifier = [new Identifier("urn:trial:enrolment", subject)],
                Status = ResearchSubject.ResearchSubjectStatus.OnStudy,
                Study = new ResourceReference("ResearchStudy/epc-cli"),
                Individual = new ResourceReference(patientUrl),
                AssignedArm = "IV",
            },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"ResearchSubject?identifier=urn:trial:enrolment|{subject}" },
        });
        for (var i = 0; i < observations; i++)
        {
            var observation = TestData.WalkingDistance("placeholder", 100 + i, identifier: $"{subject}-month6-{i}");
            observation.Subject = new ResourceReference(patientUrl);
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = observation,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"Observation?identifier=urn:trial:obs|{subject}-month6-{i}" },
            });
        }

        bundle.Entry.Add(new Bundle.EntryComponent
        {
            Resource = new AdverseEvent
            {
                Id = $"{subject}-AE-1",
                Identifier = new Identifier("urn:trial:ae", $"{subject}-AE-1"),
                Actuality = AdverseEvent.AdverseEventActuality.Actual,
                Subject = new ResourceReference(patientUrl),
                Event = new CodeableConcept("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C143485", "Fever"),
                Date = "2026-03-02",
            },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"AdverseEvent/{subject}-AE-1" },
        });
        return bundle;
    }
}
