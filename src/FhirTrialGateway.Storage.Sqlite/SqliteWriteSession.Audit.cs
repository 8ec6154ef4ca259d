using FhirTrialGateway.Core.Audit;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>The audit chain links, written in the same transaction as the AuditEvent they cover.</summary>
internal sealed partial class SqliteWriteSession
{
    private SqliteCommand? _lastAuditHash;
    private SqliteCommand? _insertAuditLink;

    public void LinkAudit(long versionSequence, byte[] record)
    {
        // The previous hash is read inside the transaction, not cached: a rolled-back unit must not leave a link
        // in memory that the file does not have. Both statements are prepared once: every request writes a link.
        _lastAuditHash ??= Prepare("SELECT hash FROM audit_chain ORDER BY link DESC LIMIT 1");
        _lastAuditHash.Transaction = Transaction;
        var previous = _lastAuditHash.ExecuteScalar() as byte[] ?? AuditChain.Genesis;

        _insertAuditLink ??= Prepare("INSERT INTO audit_chain (version_seq, prev_hash, hash) VALUES ($seq, $prev, $hash)", "$seq", "$prev", "$hash");
        Bind(_insertAuditLink, ("$seq", versionSequence), ("$prev", previous), ("$hash", AuditChain.Next(previous, record)));
        _insertAuditLink.ExecuteNonQuery();
    }

    private void DisposeAuditCommands()
    {
        _lastAuditHash?.Dispose();
        _insertAuditLink?.Dispose();
    }
}
