using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// The shape SearchSql promises: the most selective clause drives the query through its (pid, value, rid) index, and
/// every other clause is checked on the candidate through its (rid, n) key. SQLite has no statistics here, and given a
/// pid to match it would rather scan the other clauses' (pid, value) indexes (every row of the parameter); this reads
/// SQLite's own plan for the query the store runs, so a change that lets it do that fails here rather than in production.
/// </summary>
public sealed class SearchPlanTests : StoreTest
{
    [Fact]
    public async Task Checks_of_a_driven_search_read_the_candidate_rows_by_rid_not_a_whole_parameter()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Subject = new ResourceReference("Patient/p-1"),
            Effective = new FhirDateTime(2025, 3, 1),
            Value = new Quantity(72, "/min", "http://unitsofmeasure.org"),
        };
        await Store.WriteAsync(session => ResourceWriter.Create(session, observation, SearchIndexer.Instance.Extract(observation)), CancellationToken.None);

        var plan = Plan(SearchRequestParser.ParseCondition("Observation",
            "subject=Patient/p-1&code=http://loinc.org|8867-4&date=ge2025-01-01&date=lt2025-07-01&value-quantity=gt60&_sort=-date"));

        plan.Should().Contain(step => step.StartsWith("SEARCH d USING COVERING INDEX ix_reference_target (pid=? AND target_id=?", StringComparison.Ordinal),
            "the subject drives: " + string.Join(" / ", plan));
        var checks = plan.Where(step => step.StartsWith("SEARCH x ", StringComparison.Ordinal)).ToList();
        checks.Should().HaveCount(5, "code, both dates and the quantity are checked, and the sort reads the date");
        checks.Should().OnlyContain(step => step.Contains("USING PRIMARY KEY (rid=?)", StringComparison.Ordinal),
            "each check reads the candidate's own rows: " + string.Join(" / ", plan));
    }

    private List<string> Plan(SearchQuery query)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        SearchSql.BuildPage(command, query with { SnapshotKey = long.MaxValue }, SearchKeys.Load(connection));
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        using var reader = command.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }

        return steps;
    }
}
