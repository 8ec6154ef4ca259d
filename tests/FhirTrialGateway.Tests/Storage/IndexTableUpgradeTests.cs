using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// Migration 0012 rebuilds the search index tables as WITHOUT ROWID tables keyed by (rid, n); 0013 names each row's
/// type and parameter by a pid from search_keys. A file written before both (schema through 0011, rows without n or
/// pid) must come out with every row, numbered per resource in the order written, under its own type and parameter,
/// still found by searches, and replaced by the next version's rows.
/// </summary>
public sealed class IndexTableUpgradeTests : IDisposable
{
    private static readonly string[] IndexTables =
        ["token_index", "string_index", "date_index", "number_index", "quantity_index", "reference_index", "uri_index", "composite_index"];

    private readonly string _path = Path.Combine(Path.GetTempPath(), "fhirgw-upgrade", Guid.NewGuid().ToString("N"), "gateway.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    [Fact]
    public async Task Rows_written_before_the_rebuild_are_kept_numbered_searchable_and_replaced_on_update()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        SqliteSchema.Migrate($"Data Source={_path}", NullLogger.Instance, throughScript: "0011");
        var patient = new Patient
        {
            Id = "before-upgrade",
            Meta = new Meta { VersionId = "1", LastUpdated = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero) },
            Identifier = [new Identifier("urn:test:upgrade", "U-1"), new Identifier("urn:test:upgrade", "U-2")],
            Name = [new HumanName { Family = "Zhang", Given = ["Wei"] }],
        };
        var rows = SearchIndexer.Instance.Extract(patient);
        var oldTokens = rows.Tokens.Select(t => (t.Parameter, t.Code)).ToList();
        WriteAsTheOldWriterDid(patient, rows);

        await using (var store = SqliteResourceStore.Open(new SqliteStoreOptions { Path = _path }, NullLogger.Instance))
        {
            foreach (var table in IndexTables)
            {
                Scalar($"SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '{table}'").Should()
                    .BeOfType<string>().Which.Should().Contain("WITHOUT ROWID", $"{table} is rebuilt keyed by (rid, n)");
            }

            Query("SELECT k.resource_type || '.' || k.param, t.code, t.n FROM token_index t JOIN search_keys k ON k.pid = t.pid ORDER BY t.n").Should()
                .Equal(oldTokens.Select((t, n) => $"Patient.{t.Parameter}|{t.Code}|{n}"), "every token row is kept, numbered in the order written");
            Query("SELECT t.norm || '|' || t.n FROM string_index t JOIN search_keys k ON k.pid = t.pid WHERE k.param = 'family'").Should().ContainSingle()
                .Which.Should().EndWith("|" + rows.Strings.Select(s => s.Parameter).ToList().IndexOf("family"));

            (await Search(store, "identifier=urn:test:upgrade|U-2")).Should().Equal("before-upgrade");
            (await Search(store, "family=zhang")).Should().Equal("before-upgrade");

            var updated = new Patient { Id = "before-upgrade", Identifier = [new Identifier("urn:test:upgrade", "U-3")] };
            await store.WriteAsync(session => ResourceWriter.Update(session, updated, "before-upgrade",
                SearchIndexer.Instance.Extract(updated), ifMatchVersion: null), CancellationToken.None);

            (await Search(store, "identifier=urn:test:upgrade|U-1")).Should().BeEmpty("the first version's rows are replaced");
            (await Search(store, "family=zhang")).Should().BeEmpty();
            (await Search(store, "identifier=urn:test:upgrade|U-3")).Should().Equal("before-upgrade");
            Query("SELECT t.code || '|' || t.n FROM token_index t JOIN search_keys k ON k.pid = t.pid WHERE k.param = 'identifier'").Should()
                .Equal("U-3|0");
        }
    }

    /// <summary>The rows a file from before migration 0012 holds for one created Patient (no n column yet).</summary>
    private void WriteAsTheOldWriterDid(Patient patient, Core.Storage.SearchIndexRows rows)
    {
        using var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        var lastUpdated = patient.Meta.LastUpdated!.Value.ToUnixTimeMilliseconds();
        Execute(connection, "INSERT INTO resources (rid, resource_type, id, version, seq, deleted, last_updated) VALUES (1, 'Patient', $id, 1, 1, 0, $lu)",
            ("$id", patient.Id), ("$lu", lastUpdated));
        Execute(connection, "INSERT INTO resource_versions (seq, rid, resource_type, id, version, last_updated, method, body) " +
                            "VALUES (1, 1, 'Patient', $id, 1, $lu, 1, $body)",
            ("$id", patient.Id), ("$lu", lastUpdated), ("$body", new FhirJsonSerializer().SerializeToBytes(patient)));
        foreach (var token in rows.Tokens)
        {
            Execute(connection, "INSERT INTO token_index (rid, resource_type, param, system, code) VALUES (1, 'Patient', $p, $s, $c)",
                ("$p", token.Parameter), ("$s", (object?)token.System ?? DBNull.Value), ("$c", token.Code));
        }

        foreach (var text in rows.Strings)
        {
            Execute(connection, "INSERT INTO string_index (rid, resource_type, param, norm, exact) VALUES (1, 'Patient', $p, $n, $e)",
                ("$p", text.Parameter), ("$n", text.Normalized), ("$e", text.Exact));
        }

        transaction.Commit();
    }

    private static async Task<IEnumerable<string>> Search(SqliteResourceStore store, string query)
    {
        var page = await store.SearchAsync(SearchRequestParser.ParseCondition("Patient", query), CancellationToken.None);
        return page.Matches.Select(m => m.Id);
    }

    private static void Execute(SqliteConnection connection, string sql, params (string Name, object Value)[] values)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in values)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private List<string> Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.FieldCount == 1 ? reader.GetString(0) : string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
        }

        return values;
    }
}
