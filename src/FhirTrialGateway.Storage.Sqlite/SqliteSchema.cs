using DbUp;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Schema migrations with DbUp: the scripts under Migrations/ are embedded and each runs once, in name order,
/// recorded in DbUp's journal table. The PostgreSQL store gets its own scripts the same way.
/// </summary>
internal static class SqliteSchema
{
    /// <param name="throughScript">
    /// Stops after the script whose name starts with this (for example "0011"): tests make files as an earlier release
    /// left them and check that the later scripts carry their data over.
    /// </param>
    public static void Migrate(string connectionString, ILogger logger, string? throughScript = null)
    {
        var upgrader = DeployChanges.To
            .SqliteDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteSchema).Assembly, name => name.Contains(".Migrations.", StringComparison.Ordinal)
                && (throughScript is null || IsAtOrBefore(ScriptName(name), throughScript)))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();

        var scripts = upgrader.GetScriptsToExecute();
        if (scripts.Count == 0)
        {
            return;
        }

        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"Database migration failed at script {result.ErrorScript?.Name}.", result.Error);
        }

        logger.LogInformation("Applied {MigrationCount} schema migrations: {Migrations}", scripts.Count,
            string.Join(", ", scripts.Select(s => s.Name)));
    }

    /// <summary>Compares the names' first characters, as many as <paramref name="prefix"/> has ("0011" takes every 0011_*).</summary>
    private static bool IsAtOrBefore(string scriptName, string prefix) =>
        string.CompareOrdinal(scriptName, 0, prefix, 0, prefix.Length) <= 0;

    /// <summary>"FhirTrialGateway.Storage.Sqlite.Migrations.0012_x.sql" -> "0012_x.sql".</summary>
    private static string ScriptName(string resourceName) =>
        resourceName[(resourceName.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..];
}
