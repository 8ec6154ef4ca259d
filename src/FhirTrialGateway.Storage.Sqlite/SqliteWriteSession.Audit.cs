using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// The audit chain links, written in the same transaction as the AuditEvent they cover, and the AuditEvents' search
/// index rows, written later (<see cref="AuditSearchIndex"/>).
/// </summary>
internal sealed partial class SqliteWriteSession
{
    private SqliteCommand? _lastAuditHash;
    private SqliteCommand? _insertAuditLink;
    private SqliteCommand? _advanceAuditIndexMark;

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

    public bool IndexAudits(long afterLink, long throughLink, IReadOnlyList<(long ResourceKey, SearchIndexRows Rows)> audits)
    {
        // Compare-and-set on the mark: whoever indexes these links first wins; anyone else writes nothing.
        _advanceAuditIndexMark ??= Prepare("UPDATE audit_index_mark SET indexed_through = $through WHERE id = 1 AND indexed_through = $after",
            "$through", "$after");
        Bind(_advanceAuditIndexMark, ("$through", throughLink), ("$after", afterLink));
        if (_advanceAuditIndexMark.ExecuteNonQuery() != 1)
        {
            return false;
        }

        foreach (var (resourceKey, rows) in audits)
        {
            WriteIndexRows(resourceKey, "AuditEvent", rows);
        }

        return true;
    }

    private void DisposeAuditCommands()
    {
        _advanceAuditIndexMark?.Dispose();
        _lastAuditHash?.Dispose();
        _insertAuditLink?.Dispose();
    }
}
