using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// Index rows name their type and parameter by a pid whose pair is kept in search_keys (migration 0013). The writer
/// gives a pid when a pair is first indexed and writes its row with the commit; a commit that fails must not leave
/// rows, later committed, whose pid has no pair in the file, and after a restart every pid must mean what it meant.
/// </summary>
public sealed class SearchKeyTests : StoreTest
{
    [Fact]
    public async Task A_pair_first_indexed_by_a_failed_commit_is_written_by_the_next_commit_that_uses_it_and_survives_a_restart()
    {
        await FailAGroupThatGivesPatientPids();
        Scalar("SELECT COUNT(*) FROM search_keys WHERE resource_type = 'Patient'").Should().Be(0, "the group that gave the pids failed");

        await Store.WriteAsync(session => Create(session, "K-2"), CancellationToken.None);
        Scalar("SELECT COUNT(*) FROM search_keys WHERE resource_type = 'Patient' AND param = 'identifier'").Should().Be(1);
        RowsWithoutPair().Should().Be(0);

        await ReopenAsync(_ => { });
        (await Search("Patient", "identifier=urn:test:keys|K-2")).Should().ContainSingle();
        (await Search("Patient", "identifier=urn:test:keys|K-1")).Should().BeEmpty();

        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Identifier = [new Identifier("urn:test:keys", "K-2")],
        };
        await Store.WriteAsync(session => ResourceWriter.Create(session, observation, SearchIndexer.Instance.Extract(observation)), CancellationToken.None);
        (await Search("Observation", "identifier=urn:test:keys|K-2")).Should().ContainSingle("pids given after the restart do not reuse the file's");
        (await Search("Patient", "identifier=urn:test:keys|K-2")).Should().ContainSingle();
        (await Search("Observation", "code=http://loinc.org|8867-4")).Should().ContainSingle();
        Scalar("SELECT COUNT(DISTINCT pid) - COUNT(*) FROM search_keys").Should().Be(0);
        RowsWithoutPair().Should().Be(0);
    }

    [Fact]
    public async Task After_a_failed_group_the_writer_reads_which_pairs_the_file_holds_instead_of_writing_them_twice()
    {
        // A group gives Patient's pairs their pids and fails; then the pairs reach the file anyway, as they would if a
        // commit reported failure after writing. (Written here from another connection while the writer is idle.)
        await FailAGroupThatGivesPatientPids();
        var given = Store.SearchKeys.Pairs.Where(pair => pair.Type == "Patient").ToList();
        given.Should().NotBeEmpty();
        using (var other = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            other.Open();
            foreach (var (type, parameter, pid) in given)
            {
                using var insert = other.CreateCommand();
                insert.CommandText = "INSERT INTO search_keys (pid, resource_type, param) VALUES ($pid, $type, $param)";
                insert.Parameters.AddWithValue("$pid", pid);
                insert.Parameters.AddWithValue("$type", type);
                insert.Parameters.AddWithValue("$param", parameter);
                insert.ExecuteNonQuery();
            }
        }

        // The next failed group makes the writer read the pairs again; a write that uses them then commits.
        await Store.Invoking(s => s.WriteAsync<int>(_ => throw new SqliteException("disk full (simulated)", 13), CancellationToken.None))
            .Should().ThrowAsync<StoreUnavailableException>();
        await Store.WriteAsync(session => Create(session, "K-2"), CancellationToken.None);
        (await Search("Patient", "identifier=urn:test:keys|K-2")).Should().ContainSingle();
        RowsWithoutPair().Should().Be(0);
    }

    /// <summary>A group whose query writes the held rows (giving Patient's pairs their pids) and that "disk full" then fails whole.</summary>
    private async Task FailAGroupThatGivesPatientPids()
    {
        var failing = Store.WriteAsync<int>(session =>
        {
            Create(session, "K-1");
            session.FindIds(SearchRequestParser.ParseCondition("Patient", "identifier=urn:test:keys|K-1"), 2).Should().HaveCount(1);
            throw new SqliteException("disk full (simulated)", 13);
        }, CancellationToken.None);
        await failing.Invoking(async t => await t).Should().ThrowAsync<StoreUnavailableException>("the whole group was rolled back");
    }

    private static string Create(IWriteSession session, string identifier)
    {
        var patient = new Patient { Identifier = [new Identifier("urn:test:keys", identifier)], Name = [new HumanName { Family = "Li" }] };
        return ResourceWriter.Create(session, patient, SearchIndexer.Instance.Extract(patient)).Stored.Id;
    }

    private async Task<IReadOnlyList<StoredResource>> Search(string type, string query) =>
        (await Store.SearchAsync(SearchRequestParser.ParseCondition(type, query), CancellationToken.None)).Matches;

    /// <summary>Index rows, in every index table, whose pid has no pair in search_keys.</summary>
    private long RowsWithoutPair() => SearchSql.IndexTables.Sum(table => Scalar($"SELECT COUNT(*) FROM {table} WHERE pid NOT IN (SELECT pid FROM search_keys)"));

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
