using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Audit;

/// <summary>Appends an AuditEvent inside a unit of work: as a resource (searchable by admins) and as a chain link.</summary>
public static class AuditWriter
{
    /// <summary>Records the trail inside the unit of work of the change it audits (recorded at the commit's clock).</summary>
    public static void Record(IWriteSession session, AuditTrail trail, int status)
    {
        var auditEvent = trail.Build(status, session.Now);
        Record(session, new PreparedAudit(trail, auditEvent, SearchIndexer.Instance.Extract(auditEvent), null));
    }

    /// <summary>
    /// Builds, indexes and serializes the event ahead of its unit of work, for events queued after their request
    /// ended: the single writer then only stores and chains it.
    /// </summary>
    public static PreparedAudit Prepare(AuditTrail trail, int status, DateTimeOffset recorded)
    {
        var auditEvent = trail.Build(status, recorded);
        var rows = SearchIndexer.Instance.Extract(auditEvent);
        return new PreparedAudit(trail, auditEvent, rows, PreparedJson.Of(auditEvent, ResourceWriter.NewId()));
    }

    public static void Record(IWriteSession session, PreparedAudit audit)
    {
        var written = ResourceWriter.Create(session, audit.Event, audit.Rows, json: audit.Json);
        session.LinkAudit(written.Stored.Sequence, written.Stored.Json!);
        audit.Trail.MarkCommitted();
    }
}

/// <summary>An AuditEvent built from its trail, with its search index rows and (when prepared ahead) its JSON.</summary>
public sealed record PreparedAudit(AuditTrail Trail, AuditEvent Event, SearchIndexRows Rows, PreparedJson? Json);
