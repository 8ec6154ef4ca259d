using FhirTrialGateway.Core.Audit;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>The audit chain links, written in the same transaction as the AuditEvent they cover.</summary>
internal sealed partial class SqliteWriteSession
{
    public void LinkAudit(long versionSequence, byte[] record)
    {
        // The previous hash is read inside the transaction, not cached: a rolled-back unit must not leave a link
        // in memory that the file does not have.
        using var last = _connection.CreateCommand();
        last.Transaction = Transaction;
        last.CommandText = "SELECT hash FROM audit_chain ORDER BY link DESC LIMIT 1";
        var previous = last.ExecuteScalar() as byte[] ?? AuditChain.Genesis;

        using var insert = _connection.CreateCommand();
        insert.Transaction = Transaction;
        insert.CommandText = "INSERT INTO audit_chain (version_seq, prev_hash, hash) VALUES ($seq, $prev, $hash)";
        insert.Parameters.AddWithValue("$seq", versionSequence);
        insert.Parameters.AddWithValue("$prev", previous);
        insert.Parameters.AddWithValue("$hash", AuditChain.Next(previous, record));
        insert.ExecuteNonQuery();
    }
}
