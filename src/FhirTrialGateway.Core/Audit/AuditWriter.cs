using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Storage;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// Appends an AuditEvent inside a unit of work: as a resource (readable by admins) and as a chain link. Its search index
/// rows follow later (<see cref="AuditSearchIndex"/>). The JSON comes from <see cref="AuditEventJson"/>, not from an
/// SDK object: one is written for every request.
/// </summary>
public static class AuditWriter
{
    /// <summary>Records the trail inside the unit of work of the change it audits (recorded at the commit's clock).</summary>
    public static void Record(IWriteSession session, AuditTrail trail, int status)
    {
        var now = session.Now;
        WriteAndStore(session, trail, status, recorded: now, now);
    }

    /// <summary>
    /// Writes the event's JSON ahead of its unit of work, for events queued after their request ended: the single writer
    /// then only fills in meta, stores and chains it.
    /// </summary>
    public static PreparedAudit Prepare(AuditTrail trail, int status, DateTimeOffset recorded)
    {
        var id = ResourceWriter.NewId();
        var json = AuditEventJson.Write(trail, status, recorded, id, PreparedJson.VersionPlaceholder, PreparedJson.InstantPlaceholderText);
        return new PreparedAudit(trail, status, recorded, PreparedJson.Of(id, json));
    }

    public static void Record(IWriteSession session, PreparedAudit audit)
    {
        var now = session.Now;
        if (audit.Json is { } prepared)
        {
            Store(session, audit.Trail, prepared.Id, now, prepared.Complete(1, now));
            return;
        }

        // The placeholder text occurs in the trail itself (a client id or query containing it): written here instead.
        WriteAndStore(session, audit.Trail, audit.Status, audit.Recorded, now);
    }

    private static void WriteAndStore(IWriteSession session, AuditTrail trail, int status, DateTimeOffset recorded, DateTimeOffset now)
    {
        var id = ResourceWriter.NewId();
        Store(session, trail, id, now, AuditEventJson.Write(trail, status, recorded, id, "1",
            Hl7.Fhir.Serialization.PrimitiveTypeConverter.ConvertTo<string>(now)));
    }

    private static void Store(IWriteSession session, AuditTrail trail, string id, DateTimeOffset now, byte[] json)
    {
        var sequence = session.Append(new NewVersion("AuditEvent", id, 1, now, VersionMethod.Create, json, SearchIndexRows.Empty, null));
        session.LinkAudit(sequence, json);
        trail.MarkCommitted();
    }
}

/// <summary>A request's audit record, with its JSON when it could be written ahead (null: written by the writer).</summary>
public sealed record PreparedAudit(AuditTrail Trail, int Status, DateTimeOffset Recorded, PreparedJson? Json);
