using FhirTrialGateway.Core.Audit;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Recomputes the audit hash chain of a database file: every link's previous hash must be the hash before it, every
/// hash must match the AuditEvent bytes it covers, and every stored AuditEvent version must be linked.
/// </summary>
public static class SqliteAuditVerifier
{
    public sealed record Report(long Links, IReadOnlyList<string> Problems)
    {
        public bool Intact => Problems.Count == 0;
    }

    public static Report Verify(string databasePath, int maxProblems = 20)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(databasePath), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        var problems = new List<string>();
        var expectedPrevious = AuditChain.Genesis;
        long links = 0;

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT c.link, c.version_seq, c.prev_hash, c.hash, v.body, v.resource_type, v.id " +
                                  "FROM audit_chain c LEFT JOIN resource_versions v ON v.seq = c.version_seq ORDER BY c.link";
            using var reader = command.ExecuteReader();
            while (reader.Read() && problems.Count < maxProblems)
            {
                links++;
                var link = reader.GetInt64(0);
                var previous = (byte[])reader.GetValue(2);
                var hash = (byte[])reader.GetValue(3);
                if (!previous.AsSpan().SequenceEqual(expectedPrevious))
                {
                    problems.Add($"link {link}: its previous hash does not match the link before it (a record was removed, inserted or reordered)");
                }

                if (reader.IsDBNull(4) || reader.GetString(5) != "AuditEvent")
                {
                    problems.Add($"link {link}: the AuditEvent it covers (version {reader.GetInt64(1)}) is missing");
                }
                else if (!AuditChain.Next(previous, (byte[])reader.GetValue(4)).AsSpan().SequenceEqual(hash))
                {
                    problems.Add($"link {link}: AuditEvent/{reader.GetString(6)} was changed after it was written");
                }

                expectedPrevious = hash;
            }
        }

        using (var unlinked = connection.CreateCommand())
        {
            unlinked.CommandText = "SELECT COUNT(*) FROM resource_versions v WHERE v.resource_type = 'AuditEvent' " +
                                   "AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.version_seq = v.seq)";
            var count = (long)unlinked.ExecuteScalar()!;
            if (count > 0)
            {
                problems.Add($"{count} AuditEvent versions are not in the chain (written around it)");
            }
        }

        return new Report(links, problems);
    }
}
