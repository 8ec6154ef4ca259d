using System.Net;
using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace FhirTrialGateway.Tests.Audit;

/// <summary>
/// AuditEvents are stored without index rows and indexed afterwards (AuditSearchIndex). With background indexing off,
/// a search of AuditEvents must still find every event written before it, and the rows written later must be exactly
/// the rows the SDK-driven indexer extracts from the stored event, each once.
/// </summary>
public sealed class AuditSearchIndexTests : GatewayTest
{
    protected override string[] Settings => ["Audit:IndexWhenCpuBelow=0"];

    [Fact]
    public async Task An_AuditEvent_search_first_indexes_every_AuditEvent_written_before_it()
    {
        await AuditSession.CreateAndReadAsync(Gateway, "AX-1", reads: 5);

        (await Http.GetAsync("fhir/Patient/not-there")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        // The client's metadata request, the create, five reads and the failed read: eight events.
        var written = await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 8);
        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().Be(0, "background indexing is off, so nothing is indexed yet");
        AuditIndexFile.AuditEventRowCount(Gateway.DatabasePath).Should().Be(0);

        (await Total("fhir/AuditEvent?subtype=read&outcome=0&_summary=count")).Should().Be(5);
        (await Total("fhir/AuditEvent?subtype=read&outcome=4&_summary=count")).Should().Be(1);
        (await Total($"fhir/AuditEvent?subtype=create&_summary=count")).Should().Be(1);

        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().BeGreaterThanOrEqualTo(written);
        AuditIndexFile.RowsMatchTheStoredEvents(Gateway.DatabasePath);
    }

    [Fact]
    public async Task Only_searches_that_can_read_AuditEvent_rows_wait_for_the_backlog()
    {
        await AuditSession.CreateAndReadAsync(Gateway, "AX-2", reads: 1);
        await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 3); // metadata, create, read

        (await Http.GetAsync("fhir/Patient?identifier=AX-2")).StatusCode.Should().Be(HttpStatusCode.OK);
        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().Be(0, "a Patient search reads no AuditEvent rows");

        var revinclude = await Http.GetAsync("fhir/Patient?identifier=AX-2&_revinclude=AuditEvent:entity");
        revinclude.StatusCode.Should().Be(HttpStatusCode.OK);
        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().BeGreaterThanOrEqualTo(2, "a _revinclude of AuditEvents reads their reference rows");
        AuditIndexFile.RowsMatchTheStoredEvents(Gateway.DatabasePath);
    }

    [Fact]
    public async Task Two_indexers_racing_over_one_store_index_each_AuditEvent_once()
    {
        // More than two chunks of events, then two independent indexers (as two instances of the class would be).
        var patient = await AuditSession.CreateAndReadAsync(Gateway, "AX-3", reads: 0);
        await Parallel.ForEachAsync(Enumerable.Range(0, 1200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, token) =>
            (await Http.GetAsync($"fhir/Patient/{patient}", token)).EnsureSuccessStatusCode());
        var written = await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 1202); // metadata, create, reads

        var store = Gateway.Services.GetRequiredService<IResourceStore>();
        using var first = new AuditSearchIndex(store);
        using var second = new AuditSearchIndex(store);
        await Task.WhenAll(first.CatchUpAsync(CancellationToken.None), second.CatchUpAsync(CancellationToken.None));

        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().BeGreaterThanOrEqualTo(written);
        AuditIndexFile.RowsMatchTheStoredEvents(Gateway.DatabasePath);
        (await Total("fhir/AuditEvent?subtype=read&_summary=count")).Should().Be(1200);
    }

    [Fact]
    public async Task A_search_inside_a_transaction_sees_every_AuditEvent_written_before_it()
    {
        // Transaction entries are searched inside the writer's unit of work, not through the search endpoint.
        await AuditSession.CreateAndReadAsync(Gateway, "AX-5", reads: 3);

        await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 5); // metadata, create, three reads
        var transaction = new Bundle { Type = Bundle.BundleType.Transaction };
        transaction.Entry.Add(new Bundle.EntryComponent
        {
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.GET, Url = "AuditEvent?subtype=read&_count=50" },
        });

        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(transaction)));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var result = (Bundle)ResourceSerializer.Parse(await response.Content.ReadAsByteArrayAsync(), FhirFormat.Json);
        ((Bundle)result.Entry.Single().Resource).Entry.Should().HaveCount(3);
        AuditIndexFile.RowsMatchTheStoredEvents(Gateway.DatabasePath);
    }

    [Fact]
    public async Task An_AuditEvent_changed_in_the_file_into_unreadable_bytes_does_not_stop_the_others_from_being_indexed()
    {
        await AuditSession.CreateAndReadAsync(Gateway, "AX-6", reads: 3);

        // The client's first request (metadata) and the create come first: the last link is a read.
        var lastRead = await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 5);
        using (var connection = new SqliteConnection($"Data Source={Gateway.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var tamper = connection.CreateCommand();
            tamper.CommandText = "UPDATE resource_versions SET body = CAST('{\"resourceType\": \"AuditEv' AS BLOB) " +
                                 $"WHERE seq = (SELECT version_seq FROM audit_chain WHERE link = {lastRead})";
            tamper.ExecuteNonQuery().Should().Be(1);
        }

        (await Total("fhir/AuditEvent?subtype=read&_summary=count")).Should().Be(2, "one of the three reads' events is unreadable now");
        (await Total("fhir/AuditEvent?subtype=create&_summary=count")).Should().Be(1);
    }

    private async Task<int> Total(string url)
    {
        var response = await Http.GetAsync(url);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var bundle = (Bundle)ResourceSerializer.Parse(await response.Content.ReadAsByteArrayAsync(), FhirFormat.Json);
        return bundle.Total!.Value;
    }
}

/// <summary>With background indexing always on, the backlog empties without any search asking for it.</summary>
public sealed class AuditBackgroundIndexingTests : GatewayTest
{
    protected override string[] Settings => ["Audit:IndexWhenCpuBelow=2"];

    [Fact]
    public async Task Stored_AuditEvents_are_indexed_in_the_background()
    {
        await AuditSession.CreateAndReadAsync(Gateway, "AX-4", reads: 20);

        var written = await AuditIndexFile.WaitForLinksAsync(Gateway.DatabasePath, 22); // metadata, create, reads
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (AuditIndexFile.IndexedThrough(Gateway.DatabasePath) < written && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        AuditIndexFile.IndexedThrough(Gateway.DatabasePath).Should().BeGreaterThanOrEqualTo(written);
        AuditIndexFile.RowsMatchTheStoredEvents(Gateway.DatabasePath);
    }
}

/// <summary>The requests the tests audit: the Firely client creates a Patient (after its metadata request), then reads it.</summary>
internal static class AuditSession
{
    /// <summary>Makes 2 + <paramref name="reads"/> audited requests; returns the Patient's id.</summary>
    public static async Task<string> CreateAndReadAsync(TestGateway gateway, string identifier, int reads)
    {
        var id = (await gateway.FhirClient().CreateAsync(TestData.Subject(identifier)))!.Id!;
        for (var i = 0; i < reads; i++)
        {
            (await gateway.Http.GetAsync($"fhir/Patient/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        return id;
    }
}

/// <summary>Reads the gateway's SQLite file directly: the audit chain, the index mark and the AuditEvents' index rows.</summary>
internal static class AuditIndexFile
{
    private static readonly string[] Tables = ["token_index", "string_index", "date_index", "number_index", "quantity_index",
        "reference_index", "uri_index", "composite_index"];

    /// <summary>An index row's pid names its resource type in search_keys.</summary>
    private const string IsAuditEventRow = "pid IN (SELECT pid FROM search_keys WHERE resource_type = 'AuditEvent')";

    public static long IndexedThrough(string path) => Scalar(path, "SELECT indexed_through FROM audit_index_mark");

    public static long AuditEventRowCount(string path) =>
        Tables.Sum(table => Scalar(path, $"SELECT COUNT(*) FROM {table} WHERE {IsAuditEventRow}"));

    /// <summary>Waits until the chain has at least <paramref name="links"/> links (queued events are written just after their request); returns the last link.</summary>
    public static async Task<long> WaitForLinksAsync(string path, int links)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Scalar(path, "SELECT COUNT(*) FROM audit_chain") < links && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Scalar(path, "SELECT COUNT(*) FROM audit_chain").Should().BeGreaterThanOrEqualTo(links);
        return Scalar(path, "SELECT MAX(link) FROM audit_chain");
    }

    /// <summary>
    /// Every AuditEvent up to the mark has exactly the rows the indexer extracts from its stored JSON (so none was
    /// skipped or indexed twice), and none after the mark has any.
    /// </summary>
    public static void RowsMatchTheStoredEvents(string path)
    {
        var mark = IndexedThrough(path);
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT c.link, v.rid, v.body FROM audit_chain c JOIN resource_versions v ON v.seq = c.version_seq ORDER BY c.link";
        var events = new List<(long Link, long Rid, byte[] Body)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                events.Add((reader.GetInt64(0), reader.GetInt64(1), (byte[])reader.GetValue(2)));
            }
        }

        events.Should().NotBeEmpty();
        var actual = Tables.ToDictionary(table => table, table => CountsByRid(connection, table));
        foreach (var (link, rid, body) in events)
        {
            var rows = SearchIndexer.Instance.Extract(ResourceSerializer.ParseStored(body));
            var expected = new Dictionary<string, int>
            {
                ["token_index"] = rows.Tokens.Count, ["string_index"] = rows.Strings.Count, ["date_index"] = rows.Dates.Count,
                ["number_index"] = rows.Numbers.Count, ["quantity_index"] = rows.Quantities.Count,
                ["reference_index"] = rows.References.Count, ["uri_index"] = rows.Uris.Count, ["composite_index"] = rows.Composites.Count,
            };
            rows.Count.Should().BeGreaterThan(0);
            foreach (var table in Tables)
            {
                var stored = actual[table].GetValueOrDefault(rid);
                stored.Should().Be(link <= mark ? expected[table] : 0, $"{table} rows of the AuditEvent of link {link} (indexed through {mark})");
            }
        }
    }

    private static Dictionary<long, int> CountsByRid(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT rid, COUNT(*) FROM {table} WHERE {IsAuditEventRow} GROUP BY rid";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<long, int>();
        while (reader.Read())
        {
            counts[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return connection;
    }
}
