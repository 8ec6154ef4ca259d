using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// Writes that arrive while a group runs join it for <see cref="SqliteStoreOptions.GroupOpenMilliseconds"/>: fewer
/// commits under load, each unit still undone alone when it fails, and the audit hash chain whole across a unit
/// rolled back and a group that did not commit. The first unit of each scenario holds the writer until the later units
/// are queued, so which group a unit lands in does not depend on timing.
/// </summary>
public sealed class GroupCommitTests : StoreTest
{
    [Fact]
    public async Task Writes_queued_while_a_group_runs_join_its_commit_and_a_failing_one_is_undone_alone()
    {
        await ReopenAsync(options => options.GroupOpenMilliseconds = 60_000);
        var store = Store;
        Task<string>? failing = null;

        var counts = await CountsWhileAUnitHoldsTheWriter(store, session => Create(session, "G-1"), () =>
        [
            store.WriteAsync(session => Create(session, "G-2"), CancellationToken.None),
            failing = store.WriteAsync<string>(session =>
            {
                Create(session, "G-3");
                throw new InvalidOperationException("this unit fails");
            }, CancellationToken.None),
        ]);

        counts.Commits.Should().Be(1, "the two units queued while the first ran joined its group");
        counts.Writes.Should().Be(2, "the failed unit was rolled back to its savepoint, its batchmates committed");
        await failing!.Invoking(async t => await t).Should().ThrowAsync<InvalidOperationException>();
        (await IdentifiersFound(store, "G-1", "G-2", "G-3")).Should().Equal("G-1", "G-2");
    }

    [Fact]
    public async Task A_group_that_has_been_open_long_enough_leaves_later_writes_to_the_next_commit()
    {
        await ReopenAsync(options => options.GroupOpenMilliseconds = 0);
        var store = Store;

        var counts = await CountsWhileAUnitHoldsTheWriter(store, session => Create(session, "L-1"), () =>
            [store.WriteAsync(session => Create(session, "L-2"), CancellationToken.None)]);

        counts.Should().Be((2L, 2L));
        (await IdentifiersFound(store, "L-1", "L-2")).Should().Equal("L-1", "L-2");
    }

    [Fact]
    public async Task A_rolled_back_unit_leaves_no_audit_link_behind_and_the_chain_stays_whole()
    {
        await ReopenAsync(options => options.GroupOpenMilliseconds = 60_000);
        var store = Store;
        Task<int>? failing = null;

        var counts = await CountsWhileAUnitHoldsTheWriter(store, Audit, () =>
        [
            failing = store.WriteAsync<int>(session =>
            {
                Audit(session);
                throw new InvalidOperationException("this unit fails after linking its AuditEvent");
            }, CancellationToken.None),
            store.WriteAsync(session => { Audit(session); return 0; }, CancellationToken.None),
        ]);

        counts.Should().Be((2L, 1L));
        await failing!.Invoking(async t => await t).Should().ThrowAsync<InvalidOperationException>();
        await CloseStoreAsync();
        var report = SqliteAuditVerifier.Verify(DatabasePath);
        report.Problems.Should().BeEmpty("the third link follows the first: the failed unit's link was rolled back");
        report.Links.Should().Be(2);
    }

    [Fact]
    public async Task After_a_group_that_did_not_commit_the_next_audit_link_follows_the_last_one_on_disk()
    {
        await ReopenAsync(options => options.GroupOpenMilliseconds = 60_000);
        var store = Store;
        await store.WriteAsync(session => { Audit(session); return 0; }, CancellationToken.None);
        Task<int>? failingGroup = null;

        // A unit failing with "disk full" fails its whole group, the first unit's link included.
        var counts = await CountsWhileAUnitHoldsTheWriter(store, Audit, () =>
        [
            failingGroup = store.WriteAsync<int>(_ => throw new SqliteException("disk full (simulated)", 13), CancellationToken.None),
        ]);
        await store.WriteAsync(session => { Audit(session); return 0; }, CancellationToken.None);

        counts.Should().Be((0L, 0L));
        await failingGroup!.Invoking(async t => await t).Should().ThrowAsync<StoreUnavailableException>();
        await CloseStoreAsync();
        var report = SqliteAuditVerifier.Verify(DatabasePath);
        report.Problems.Should().BeEmpty();
        report.Links.Should().Be(2);
    }

    /// <summary>
    /// Starts a unit that runs <paramref name="firstWork"/> and keeps the writer until <paramref name="queueLater"/> has
    /// queued its writes, waits for all of them, and returns the writes and commits made meanwhile.
    /// </summary>
    private static async Task<(long Writes, long Commits)> CountsWhileAUnitHoldsTheWriter(
        SqliteResourceStore store, Action<IWriteSession> firstWork, Func<Task[]> queueLater)
    {
        var before = store.WriterCounts;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var first = store.WriteAsync(session =>
        {
            firstWork(session);
            started.SetResult();
            release.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the test releases the unit once the later units are queued");
            return 0;
        }, CancellationToken.None);
        await started.Task;
        var later = queueLater();
        release.Set();
        await Task.WhenAny(Task.WhenAll([first, .. later]));
        var after = store.WriterCounts;
        return (after.Writes - before.Writes, after.Commits - before.Commits);
    }

    private static void Audit(IWriteSession session) =>
        AuditWriter.Record(session, new AuditTrail("group-commit-tests", null, "127.0.0.1") { Interaction = "read" }, 200);

    private static string Create(IWriteSession session, string identifier)
    {
        var patient = new Patient { Identifier = [new Identifier("urn:test:group", identifier)] };
        return ResourceWriter.Create(session, patient, SearchIndexer.Instance.Extract(patient)).Stored.Id;
    }

    private static async Task<List<string>> IdentifiersFound(SqliteResourceStore store, params string[] identifiers)
    {
        var found = new List<string>();
        foreach (var identifier in identifiers)
        {
            var query = SearchRequestParser.ParseCondition("Patient", $"identifier=urn:test:group|{identifier}");
            if ((await store.SearchAsync(query, CancellationToken.None)).Matches.Count == 1)
            {
                found.Add(identifier);
            }
        }

        return found;
    }
}
