using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// Appends an AuditEvent inside a unit of work: as a resource (readable by admins) and as a chain link. Its search index
/// rows follow later (<see cref="AuditSearchIndex"/>).
/// </summary>
public static class AuditWriter
{
    /// <summary>Records the trail inside the unit of work of the change it audits (recorded at the commit's clock).</summary>
    public static void Record(IWriteSession session, AuditTrail trail, int status)
    {
        var auditEvent = trail.Build(status, session.Now);
        Record(session, new PreparedAudit(trail, auditEvent, null));
    }

    /// <summary>
    /// Builds and serializes the event ahead of its unit of work, for events queued after their request ended: the
    /// single writer then only stores and chains it.
    /// </summary>
    public static PreparedAudit Prepare(AuditTrail trail, int status, DateTimeOffset recorded)
    {
        var auditEvent = trail.Build(status, recorded);
        return new PreparedAudit(trail, auditEvent, PreparedJson.Of(auditEvent, ResourceWriter.NewId()));
    }

    public static void Record(IWriteSession session, PreparedAudit audit)
    {
        var written = ResourceWriter.Create(session, audit.Event, SearchIndexRows.Empty, json: audit.Json);
        session.LinkAudit(written.Stored.Sequence, written.Stored.Json!);
        audit.Trail.MarkCommitted();
    }
}

/// <summary>An AuditEvent built from its trail, with its JSON when prepared ahead.</summary>
public sealed record PreparedAudit(AuditTrail Trail, AuditEvent Event, PreparedJson? Json);
