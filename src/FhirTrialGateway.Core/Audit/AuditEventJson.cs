using System.Buffers;
using System.Text.Json;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// Writes a trail's AuditEvent as FHIR JSON straight from the trail: the same bytes the SDK's serializer makes of
/// <see cref="AuditTrail.Build"/> (same element order, same escaping; <c>Unit/AuditEventJsonTests</c> compares them
/// over every shape a trail takes). Written by hand because every request records one: under the read load the SDK's
/// serializer, walking the object model through its element enumerators, was 39% of everything the gateway allocated
/// (allocation profile), and those collections were the read p99. This writes the fixed shape with one
/// <see cref="Utf8JsonWriter"/> and no object model.
/// </summary>
internal static class AuditEventJson
{
    private const string InteractionSystem = "http://hl7.org/fhir/restful-interaction";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    public static byte[] Write(AuditTrail trail, int status, DateTimeOffset recorded, string id, string versionId, string lastUpdated)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(2048);
        buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(buffer, ResourceSerializer.CompactJson))
        {
            json.WriteStartObject();
            json.WriteString("resourceType", "AuditEvent");
            json.WriteString("id", id);
            json.WriteStartObject("meta");
            json.WriteString("versionId", versionId);
            json.WriteString("lastUpdated", lastUpdated);
            json.WriteEndObject();
            json.WritePropertyName("type");
            Coding(json, "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation");
            json.WriteStartArray("subtype");
            Coding(json, InteractionSystem, trail.Interaction, null);
            json.WriteEndArray();
            json.WriteString("action", trail.Action.ToString());
            json.WriteString("recorded", PrimitiveTypeConverter.ConvertTo<string>(recorded));
            json.WriteString("outcome", AuditTrail.OutcomeOf(status) switch
            {
                AuditEvent.AuditEventOutcome.N0 => "0",
                AuditEvent.AuditEventOutcome.N4 => "4",
                _ => "8",
            });
            json.WriteString("outcomeDesc", $"HTTP {status}");
            Agent(json, trail);
            json.WriteStartObject("source");
            json.WriteStartObject("observer");
            json.WriteString("display", "FhirTrialGateway");
            json.WriteEndObject();
            json.WriteStartArray("type");
            Coding(json, "http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server");
            json.WriteEndArray();
            json.WriteEndObject();
            Entities(json, trail);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Agent(Utf8JsonWriter json, AuditTrail trail)
    {
        json.WriteStartArray("agent");
        json.WriteStartObject();
        json.WriteStartObject("who");
        json.WriteStartObject("identifier");
        json.WriteString("system", "urn:fhirtrialgateway:client");
        json.WriteString("value", trail.ClientId);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteBoolean("requestor", true);
        if (trail.Site is not null)
        {
            json.WriteStartObject("location");
            json.WriteString("display", $"site {trail.Site}");
            json.WriteEndObject();
        }

        if (trail.NetworkAddress is not null)
        {
            json.WriteStartObject("network");
            json.WriteString("address", trail.NetworkAddress);
            json.WriteString("type", "2");
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndArray();
    }

    /// <summary>The touched resources, then the query of a search, or else the path of a request that touched nothing.</summary>
    private static void Entities(Utf8JsonWriter json, AuditTrail trail)
    {
        var entities = trail.Entities();
        var queryEntity = trail.Query is not null;
        var pathEntity = !queryEntity && entities.Length == 0 && trail.Path is not null;
        if (entities.Length == 0 && !queryEntity && !pathEntity)
        {
            return;
        }

        json.WriteStartArray("entity");
        foreach (var entity in entities)
        {
            json.WriteStartObject();
            json.WriteStartObject("what");
            json.WriteString("reference", entity);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        if (queryEntity)
        {
            json.WriteStartObject();
            json.WritePropertyName("type");
            Coding(json, "http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object");
            if (trail.Path is not null)
            {
                json.WriteString("description", trail.Path);
            }

            json.WriteString("query", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(trail.Query!)));
            json.WriteEndObject();
        }
        else if (pathEntity)
        {
            json.WriteStartObject();
            json.WriteString("description", trail.Path);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void Coding(Utf8JsonWriter json, string system, string code, string? display)
    {
        json.WriteStartObject();
        json.WriteString("system", system);
        json.WriteString("code", code);
        if (display is not null)
        {
            json.WriteString("display", display);
        }

        json.WriteEndObject();
    }
}
