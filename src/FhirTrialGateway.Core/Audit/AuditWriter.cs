using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;

namespace FhirTrialGateway.Core.Audit;

/// <summary>Appends an AuditEvent inside a unit of work: as a resource (searchable by admins) and as a chain link.</summary>
public static class AuditWriter
{
    public static void Record(IWriteSession session, AuditTrail trail, int status)
    {
        var auditEvent = trail.Build(status, session.Now);
        var written = ResourceWriter.Create(session, auditEvent, SearchIndexer.Instance.Extract(auditEvent));
        session.LinkAudit(written.Stored.Sequence, written.Stored.Json!);
        trail.MarkCommitted();
    }
}
