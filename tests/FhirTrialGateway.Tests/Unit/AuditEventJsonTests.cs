using System.Text;
using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirTrialGateway.Tests.Unit;

/// <summary>
/// The AuditEvent JSON the gateway stores is written by hand from the trail (<see cref="AuditEventJson"/>); it must be
/// byte for byte what the SDK's serializer writes for <see cref="AuditTrail.Build"/>, for every shape a trail takes.
/// </summary>
public sealed class AuditEventJsonTests
{
    private static readonly DateTimeOffset[] Instants =
    [
        new(2026, 11, 25, 6, 30, 1, 123, TimeSpan.Zero),
        new(2026, 11, 25, 6, 30, 1, 0, TimeSpan.Zero),
        new(2024, 2, 29, 23, 59, 59, 990, TimeSpan.FromHours(8)),
    ];

    public static TheoryData<string> Shapes => new(Trails().Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Written_bytes_equal_the_SDK_serialization_of_the_built_event(string shape)
    {
        var trail = Trails().Single(t => t.Name == shape).Make();
        foreach (var status in new[] { 200, 201, 204, 404, 412, 500 })
        {
            foreach (var instant in Instants)
            {
                var lastUpdated = instant.AddMilliseconds(1);
                var written = AuditEventJson.Write(trail, status, instant, "an-id", "7", PrimitiveTypeConverter.ConvertTo<string>(lastUpdated));

                var built = trail.Build(status, instant);
                built.Id = "an-id";
                built.Meta = new Meta { VersionId = "7", LastUpdated = lastUpdated };
                Encoding.UTF8.GetString(written).Should().Be(Encoding.UTF8.GetString(ResourceSerializer.SerializeJson(built)), $"{shape}, HTTP {status}, {instant:O}");
            }
        }
    }

    [Fact]
    public void A_prepared_event_completed_by_the_writer_equals_one_written_there()
    {
        var trail = Trails().First(t => t.Name == "search with query").Make();
        var recorded = Instants[0];
        var audit = AuditWriter.Prepare(trail, 200, recorded);
        audit.Json.Should().NotBeNull();

        var committed = recorded.AddMilliseconds(3);
        var completed = audit.Json!.Complete(1, committed);
        completed.Should().Equal(AuditEventJson.Write(trail, 200, recorded, audit.Json.Id, "1", PrimitiveTypeConverter.ConvertTo<string>(committed)));
        ResourceSerializer.ParseStored(completed).Should().BeOfType<AuditEvent>().Which.Meta.VersionId.Should().Be("1");
    }

    [Fact]
    public void A_trail_that_contains_the_placeholder_text_is_not_prepared_ahead()
    {
        var trail = new AuditTrail("fhirgw-pending-version", null, null) { Interaction = "read", Path = "GET /fhir/Patient/1" };
        AuditWriter.Prepare(trail, 200, Instants[0]).Json.Should().BeNull("the writer cannot tell the meta placeholder from the client id");
    }

    private static IEnumerable<(string Name, Func<AuditTrail> Make)> Trails()
    {
        yield return ("read by a site client", () => Touched(new AuditTrail("epc-site-beijing", "beijing", "10.1.2.3")
            { Interaction = "read", Action = AuditEvent.AuditEventAction.R, Path = "GET /fhir/Observation/1" }, "Observation/1/_history/2"));
        yield return ("create without network or site", () => Touched(new AuditTrail("sponsor", null, null)
            { Interaction = "create", Action = AuditEvent.AuditEventAction.C }, "Observation/x/_history/1"));
        yield return ("transaction touching three", () => Touched(new AuditTrail("ehr", "site-2", "::1")
            { Interaction = "transaction", Action = AuditEvent.AuditEventAction.E, Path = "POST /fhir" },
            "Patient/p/_history/1", "Observation/o/_history/3", "AdverseEvent/a/_history/1"));
        yield return ("update and delete", () => Touched(new AuditTrail("admin", null, "127.0.0.1")
            { Interaction = "update", Action = AuditEvent.AuditEventAction.U }, "Patient/p/_history/4"));
        yield return ("delete", () => new AuditTrail("admin", null, "127.0.0.1")
            { Interaction = "delete", Action = AuditEvent.AuditEventAction.D, Path = "DELETE /fhir/Patient/p" });
        yield return ("search with query", () => new AuditTrail("sponsor", null, "127.0.0.1")
            { Interaction = "search-type", Action = AuditEvent.AuditEventAction.E, Path = "GET /fhir/Observation", Query = "?code=http://snomed.info/sct|165263003&_count=50" });
        yield return ("search without query text and without path", () => new AuditTrail("sponsor", null, null)
            { Interaction = "search-system", Action = AuditEvent.AuditEventAction.E, Path = null, Query = "" });
        yield return ("search that touched results", () => Touched(new AuditTrail("sponsor", null, "127.0.0.1")
            { Interaction = "search-type", Action = AuditEvent.AuditEventAction.E, Path = "GET /fhir/Patient", Query = "?name=Zh%C3%A0ng" }, "Patient/p/_history/1"));
        yield return ("refused, path only", () => new AuditTrail("anonymous", null, "203.0.113.9")
            { Path = "GET /fhir/Patient/<script>\"quoted\"+plus" });
        yield return ("nothing to name", () => new AuditTrail("anonymous", null, null) { Path = null });
        yield return ("text that needs escaping", () => new AuditTrail("client \"q\" \\ back\tslash é 中文 \u0001", "site <&>", "127.0.0.1")
            { Interaction = "search-type", Action = AuditEvent.AuditEventAction.E, Path = "GET /fhir/Patient/é\n", Query = "?name=\"x\"&given=中" });
    }

    private static AuditTrail Touched(AuditTrail trail, params string[] references)
    {
        foreach (var reference in references)
        {
            trail.Touched(reference);
        }

        return trail;
    }
}
