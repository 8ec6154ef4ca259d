using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Storage.Sqlite;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Durability;

/// <summary>
/// Checkpoints run beside the writer and at the configured WAL size: the WAL must not grow with everything ever
/// written, and nothing written may be lost by them.
/// </summary>
public sealed class WalCheckpointTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhirgw-wal", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_WAL_is_checkpointed_beside_the_writer_and_stays_small()
    {
        var path = Path.Combine(_directory, "gateway.db");
        const int Creates = 4000;
        await using (var store = SqliteResourceStore.Open(new SqliteStoreOptions { Path = path, WalCheckpointPages = 500 }, NullLogger.Instance))
        {
            var service = new ResourceService(store);
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= Creates)
                {
                    var basic = new Basic
                    {
                        Code = new CodeableConcept("urn:test", "wal"),
                        Identifier = [new Identifier("urn:test:wal", Guid.NewGuid().ToString("N"))],
                        Extension = [new Extension("urn:test:padding", new FhirString(new string('x', 2000)))],
                    };
                    await service.CreateAsync("Basic", basic, null, CancellationToken.None);
                }
            })));

            // The creates wrote about 17 MB of WAL frames; checkpointed at 500 pages (2 MB), the WAL restarts from its
            // beginning and its file stays a fraction of that (one group commit can overshoot the 500 pages).
            new FileInfo(path + "-wal").Length.Should().BeLessThan(6L * 1024 * 1024);
        }

        // Read straight from the file after the store is closed: every create is there.
        CountBasics(path).Should().Be(Creates);
    }

    [Fact]
    public async Task The_background_checkpointer_alone_copies_every_commit_into_the_database_file()
    {
        var path = Path.Combine(_directory, "gateway.db");
        const int Creates = 200;
        // The writer's own checkpoint never runs (its threshold is out of reach): only the background one can copy.
        await using var store = SqliteResourceStore.Open(
            new SqliteStoreOptions { Path = path, WalCheckpointPages = int.MaxValue, CheckpointIntervalMilliseconds = 5 }, NullLogger.Instance);
        var service = new ResourceService(store);
        for (var i = 0; i < Creates; i++)
        {
            await service.CreateAsync("Basic", new Basic { Code = new CodeableConcept("urn:test", "ckpt") }, null, CancellationToken.None);
        }

        // The database file alone (copied without its WAL) holds what the checkpointer copied so far.
        var copy = Path.Combine(_directory, "copy.db");
        long inFile = -1;
        for (var attempt = 0; attempt < 200 && inFile != Creates; attempt++)
        {
            await Task.Delay(50);
            File.Copy(path, copy, overwrite: true);
            try
            {
                inFile = CountBasics(copy);
            }
            catch (SqliteException)
            {
                inFile = -1; // copied while the checkpointer was writing it: try again
            }
        }

        inFile.Should().Be(Creates, "every commit is copied into the database file by the background checkpointer");
    }

    private static long CountBasics(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM resources WHERE resource_type = 'Basic'";
        return (long)count.ExecuteScalar()!;
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
