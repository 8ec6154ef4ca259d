using FhirTrialGateway.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FhirTrialGateway.Tests.Storage;

/// <summary>Base of the store suites: a real SQLite store on a fresh file of its own, closed and deleted afterwards.</summary>
public abstract class StoreTest : IAsyncLifetime
{
    private SqliteResourceStore? _store;

    protected string DatabasePath { get; } = Path.Combine(Path.GetTempPath(), "fhirgw-store", Guid.NewGuid().ToString("N"), "gateway.db");

    protected SqliteResourceStore Store => _store ?? throw new InvalidOperationException("The store is closed.");

    public Task InitializeAsync()
    {
        _store = SqliteResourceStore.Open(new SqliteStoreOptions { Path = DatabasePath }, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await CloseStoreAsync();
        Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);
    }

    /// <summary>Closes the store and opens the same file again with options changed by <paramref name="configure"/>.</summary>
    protected async Task ReopenAsync(Action<SqliteStoreOptions> configure)
    {
        await CloseStoreAsync();
        var options = new SqliteStoreOptions { Path = DatabasePath };
        configure(options);
        _store = SqliteResourceStore.Open(options, NullLogger.Instance);
    }

    protected async Task CloseStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }
    }
}
