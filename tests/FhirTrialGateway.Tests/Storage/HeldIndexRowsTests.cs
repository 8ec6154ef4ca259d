using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// The writer holds a group's index rows until just before the commit. Units of one group must still see every version
/// written before them, and a unit that fails after its query wrote the held rows must leave them held, not lost and
/// not written twice. One group is forced by queuing the units while a first unit keeps the writer busy.
/// </summary>
public sealed class HeldIndexRowsTests : StoreTest
{
    [Fact]
    public async Task Units_of_one_group_see_earlier_rows_and_a_failed_unit_gives_back_what_it_wrote()
    {
        using var release = new ManualResetEventSlim();
        var blocker = Store.WriteAsync(_ => release.Wait(TimeSpan.FromSeconds(10)), CancellationToken.None);

        var first = Store.WriteAsync(session => Create(session, "H-1"), CancellationToken.None);
        var failing = Store.WriteAsync<int>(session =>
        {
            // Queries the index (writing the held rows of "H-1" inside this unit), writes its own version, then fails.
            session.FindIds(Condition("H-1"), 2).Should().HaveCount(1);
            Create(session, "H-2");
            session.FindIds(Condition("H-2"), 2).Should().HaveCount(1);
            throw new InvalidOperationException("this unit fails after querying");
        }, CancellationToken.None);
        var later = Store.WriteAsync(session =>
            (H1: session.FindIds(Condition("H-1"), 2).Count, H2: session.FindIds(Condition("H-2"), 2).Count), CancellationToken.None);
        var last = Store.WriteAsync(session => Create(session, "H-3"), CancellationToken.None);
        release.Set();
        await blocker;

        await first;
        await failing.Invoking(async t => await t).Should().ThrowAsync<InvalidOperationException>();
        (await later).Should().Be((1, 0), "H-1 was written before the unit, H-2 only by the failed one");
        await last;

        TokenRows("H-1").Should().Be(1, "held again after the failed unit and written once at the commit");
        TokenRows("H-2").Should().Be(0);
        TokenRows("H-3").Should().Be(1);
        (await Store.SearchAsync(Condition("H-1"), CancellationToken.None)).Matches.Should().ContainSingle();
    }

    [Fact]
    public async Task A_new_version_in_the_same_group_replaces_the_rows_of_the_one_before()
    {
        var created = await Store.WriteAsync(session => Create(session, "V-1"), CancellationToken.None);
        using var release = new ManualResetEventSlim();
        var blocker = Store.WriteAsync(_ => release.Wait(TimeSpan.FromSeconds(10)), CancellationToken.None);
        var second = Store.WriteAsync(session => Update(session, created, "V-2"), CancellationToken.None);
        var third = Store.WriteAsync(session => Update(session, created, "V-3"), CancellationToken.None);
        release.Set();
        await Task.WhenAll(blocker, second, third);

        TokenRows("V-1").Should().Be(0);
        TokenRows("V-2").Should().Be(0);
        TokenRows("V-3").Should().Be(1);
    }

    private static string Create(IWriteSession session, string identifier)
    {
        var patient = new Patient { Identifier = [new Identifier("urn:test:held", identifier)] };
        return ResourceWriter.Create(session, patient, SearchIndexer.Instance.Extract(patient)).Stored.Id;
    }

    private static string Update(IWriteSession session, string id, string identifier)
    {
        var patient = new Patient { Id = id, Identifier = [new Identifier("urn:test:held", identifier)] };
        return ResourceWriter.Update(session, patient, id, SearchIndexer.Instance.Extract(patient), ifMatchVersion: null).Stored.Id;
    }

    private static SearchQuery Condition(string identifier) => SearchRequestParser.ParseCondition("Patient", $"identifier=urn:test:held|{identifier}");

    private long TokenRows(string identifier)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM token_index t JOIN search_keys k ON k.pid = t.pid " +
                              "WHERE k.resource_type = 'Patient' AND k.param = 'identifier' AND t.code = $code";
        command.Parameters.AddWithValue("$code", identifier);
        return (long)command.ExecuteScalar()!;
    }
}
