using FhirTrialGateway.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>
/// The writer numbers versions and search keys in memory, so a second store (another gateway process) writing the same
/// file would give numbers twice. It is refused at start, with a message naming the file, until the first store closes.
/// </summary>
public sealed class OneStorePerFileTests : StoreTest
{
    [Fact]
    public async Task A_second_store_on_an_open_file_is_refused_and_opens_once_the_first_has_closed()
    {
        var options = new SqliteStoreOptions { Path = DatabasePath };
        var refused = () => SqliteResourceStore.Open(options, NullLogger.Instance);
        refused.Should().Throw<InvalidOperationException>().WithMessage($"*{Path.GetFullPath(DatabasePath)}*another gateway process*");

        await CloseStoreAsync();
        await using var second = SqliteResourceStore.Open(options, NullLogger.Instance);
        (await second.ReadCurrentAsync("Patient", "none", CancellationToken.None)).Should().BeNull();
    }
}
