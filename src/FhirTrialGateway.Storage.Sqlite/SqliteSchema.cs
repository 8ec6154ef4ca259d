using DbUp;
using Microsoft.Extensions.Logging;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>
/// Schema migrations with DbUp: the scripts under Migrations/ are embedded and each runs once, in name order,
/// recorded in DbUp's journal table. The PostgreSQL store gets its own scripts the same way.
/// </summary>
internal static class SqliteSchema
{
    public static void Migrate(string connectionString, ILogger logger)
    {
        var upgrader = DeployChanges.To
            .SqliteDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteSchema).Assembly, name => name.Contains(".Migrations.", StringComparison.Ordinal))
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
}
