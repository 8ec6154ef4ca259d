using System.CommandLine;
using FhirTrialGateway.Storage.Sqlite;

namespace FhirTrialGateway.Audit;

/// <summary><c>fhirgw audit verify [--db path]</c>: recomputes the audit hash chain; exit 0 intact, 1 tampered, 2 bad usage.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var database = new Option<string>("--db") { Description = "The SQLite database file.", DefaultValueFactory = _ => "./data/gateway.db" };
        var verify = new Command("verify", "Check that no audit record was edited, removed or reordered.") { database };
        verify.SetAction(parse => Verify(parse.GetValue(database)!, Console.Out, Console.Error));
        return new Command("audit", "The tamper-evident audit trail.") { verify };
    }

    public static int Verify(string databasePath, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(databasePath))
        {
            stderr.WriteLine($"fhirgw audit verify: no database at '{databasePath}'.");
            return 2;
        }

        var report = SqliteAuditVerifier.Verify(databasePath);
        if (report.Intact)
        {
            stdout.WriteLine($"audit trail intact: {report.Links} records, chain verified.");
            return 0;
        }

        stdout.WriteLine($"audit trail TAMPERED ({report.Problems.Count} problems in {report.Links} records):");
        foreach (var problem in report.Problems)
        {
            stdout.WriteLine("  " + problem);
        }

        return 1;
    }
}
