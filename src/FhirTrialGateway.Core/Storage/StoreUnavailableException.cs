namespace FhirTrialGateway.Core.Storage;

/// <summary>The store could not commit (disk full, I/O error, shutting down). Nothing of the write was kept.</summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }
}
