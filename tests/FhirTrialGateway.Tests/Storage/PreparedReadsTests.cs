using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// Reads by id run on read connections the store keeps open with their statements prepared. A kept connection must
/// never answer from an old snapshot: every read sees each write acknowledged before it started, whichever pooled
/// connection it gets and however many reads run at once.
/// </summary>
public sealed class PreparedReadsTests : StoreTest
{
    [Fact]
    public async Task Concurrent_reads_on_kept_connections_see_every_acknowledged_version()
    {
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var patient = new Patient { Identifier = [new Identifier("urn:test:reads", $"R-{i}")] };
            ids.Add((await Store.WriteAsync(session => ResourceWriter.Create(session, patient, SearchIndexer.Instance.Extract(patient)),
                CancellationToken.None)).Stored.Id);
        }

        // Each task updates its own resource and reads it right after every acknowledged update, while the others do the
        // same: more readers at once than connections are kept, so connections are made, reused and closed throughout.
        await Task.WhenAll(ids.Select(id => Task.Run(async () =>
        {
            for (var version = 2; version <= 40; version++)
            {
                var patient = new Patient { Id = id, Identifier = [new Identifier("urn:test:reads", $"{id}-{version}")] };
                await Store.WriteAsync(session => ResourceWriter.Update(session, patient, id, SearchIndexer.Instance.Extract(patient), null),
                    CancellationToken.None);
                var reads = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Store.ReadCurrentAsync("Patient", id, CancellationToken.None))));
                foreach (var current in reads)
                {
                    current.Should().NotBeNull();
                    current!.Version.Should().Be(version, $"version {version} of Patient/{id} was acknowledged before the read");
                }

                (await Store.ReadVersionAsync("Patient", id, version - 1, CancellationToken.None))!.Version.Should().Be(version - 1);
            }
        })));

        (await Store.ReadCurrentAsync("Patient", "no-such-id", CancellationToken.None)).Should().BeNull();
        (await Store.ReadVersionAsync("Patient", ids[0], 41, CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task Reads_after_the_store_is_closed_are_refused()
    {
        (await Store.ReadCurrentAsync("Patient", "x", CancellationToken.None)).Should().BeNull();
        await CloseStoreAsync();
        var closed = SqliteResourceStore.Open(new SqliteStoreOptions { Path = DatabasePath }, NullLogger.Instance);
        await closed.DisposeAsync();
        await closed.Invoking(s => s.ReadCurrentAsync("Patient", "x", CancellationToken.None)).Should().ThrowAsync<ObjectDisposedException>();
    }
}
