using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Tests.Mapping;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Unit;

/// <summary>
/// A new resource is serialized before the single writer and completed there by splicing meta.versionId and
/// meta.lastUpdated into the bytes: the result must be exactly what the SDK writes for the finished resource.
/// </summary>
public sealed class PreparedJsonTests
{
    private static readonly DateTimeOffset[] Instants =
    [
        new(2026, 11, 25, 6, 30, 1, 123, TimeSpan.Zero),
        new(2026, 11, 25, 6, 30, 1, 0, TimeSpan.Zero),
        new(2024, 2, 29, 23, 59, 59, 990, TimeSpan.Zero),
        DateTimeOffset.FromUnixTimeMilliseconds(1),
    ];

    [Fact]
    public void Completed_bytes_equal_the_SDK_serialization_for_every_official_R4_example()
    {
        var folder = Path.Combine(MappingTestSupport.SharedData, "r4-examples");
        Directory.Exists(folder).Should().BeTrue($"{folder} is missing: this test needs the official R4 examples of the shared data folder");
        var files = Directory.GetFiles(folder, "*.json");
        files.Should().HaveCountGreaterThan(50);

        var version = 1;
        foreach (var file in files)
        {
            foreach (var instant in Instants)
            {
                // Recoverable parsing: a few official examples break cardinality rules the strict parser enforces.
                var resource = ResourceSerializer.ParseStored(File.ReadAllBytes(file));
                var prepared = PreparedJson.Of(resource, "prepared-id");
                prepared.Should().NotBeNull(file);

                var completed = prepared!.Complete(resource, version, instant);

                var expected = ResourceSerializer.ParseStored(File.ReadAllBytes(file));
                expected.Id = "prepared-id";
                expected.Meta ??= new Meta();
                expected.Meta.VersionId = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                expected.Meta.LastUpdated = instant;
                completed.Should().Equal(ResourceSerializer.SerializeJson(expected), $"{file} at {instant:O}");
                ResourceSerializer.SerializeJson(resource).Should().Equal(completed, "the resource carries the same meta as its bytes");
                version++;
            }
        }
    }

    [Fact]
    public void A_resource_that_contains_the_placeholder_text_is_serialized_by_the_writer_instead()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept { Text = "x" },
            Identifier = [new Identifier("urn:test", "fhirgw-pending-version")],
        };

        PreparedJson.Of(observation, "abc").Should().BeNull();
    }

    [Fact]
    public void Meta_that_is_already_there_is_kept_and_only_version_and_time_change()
    {
        var patient = new Patient
        {
            Meta = new Meta { VersionId = "7", Profile = ["http://example.org/StructureDefinition/p"], Tag = [new Coding("urn:t", "a")] },
        };
        patient.Meta.AddExtension("http://example.org/e", new FhirString("meta extension"));

        var completed = PreparedJson.Of(patient, "p1")!.Complete(patient, 1, Instants[0]);

        var parsed = (Patient)ResourceSerializer.Parse(completed, FhirFormat.Json);
        parsed.Id.Should().Be("p1");
        parsed.Meta.VersionId.Should().Be("1");
        parsed.Meta.LastUpdated.Should().Be(Instants[0]);
        parsed.Meta.Profile.Should().Equal("http://example.org/StructureDefinition/p");
        parsed.Meta.Tag.Single().Code.Should().Be("a");
        parsed.Meta.Extension.Single().Value.Should().BeEquivalentTo(new FhirString("meta extension"));
    }
}
