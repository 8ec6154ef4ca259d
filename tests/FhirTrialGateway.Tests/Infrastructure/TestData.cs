using System.Text.Json;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Infrastructure;

/// <summary>Small helpers to build and read FHIR in tests.</summary>
public static class TestData
{
    public static string ToJson(Resource resource) => ResourceSerializer.ToText(ResourceSerializer.SerializeJson(resource));

    public static T Parse<T>(string json)
        where T : Resource => (T)ResourceSerializer.Parse(System.Text.Encoding.UTF8.GetBytes(json), FhirFormat.Json);

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response)
        where T : Resource
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var format = response.Content.Headers.ContentType?.MediaType?.Contains("xml", StringComparison.Ordinal) == true ? FhirFormat.Xml : FhirFormat.Json;
        return (T)ResourceSerializer.Parse(body, format);
    }

    public static Observation WalkingDistance(string subjectId, decimal metres, string? identifier = null)
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://snomed.info/sct", "165263003", "Walking distance"),
            Subject = new ResourceReference($"Patient/{subjectId}"),
            Effective = new FhirDateTime("2026-03-01T10:00:00Z"),
            Value = new Quantity(metres, "m", "http://unitsofmeasure.org"),
        };
        if (identifier is not null)
        {
            observation.Identifier.Add(new Identifier("urn:trial:obs", identifier));
        }

        return observation;
    }

    public static Patient Subject(string subjectId) => new()
    {
        Identifier = [new Identifier("urn:trial:subject", subjectId)],
        Gender = AdministrativeGender.Female,
        BirthDateElement = new Date(1950),
    };

    public static JsonElement JsonOf(string text) => JsonDocument.Parse(text).RootElement;

    /// <summary>History entries of trial data: every request also writes an AuditEvent, which these checks leave out.</summary>
    public static List<Bundle.EntryComponent> DataEntries(this Bundle history) =>
        history.Entry.Where(e => !(e.Request?.Url ?? e.FullUrl ?? "").Contains("AuditEvent", StringComparison.Ordinal)).ToList();
}
