namespace FhirTrialGateway.Core.Bundles;

/// <summary>Configuration section "Bundles".</summary>
public sealed class BundleLimits
{
    /// <summary>Most entries accepted in one transaction or batch; more is answered 413.</summary>
    public int MaxEntries { get; set; } = 20_000;

    /// <summary>Largest bundle body (POST to the base); larger is answered 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Bodies from this size up (or of unknown length) count as large bundles.</summary>
    public long LargeBodyBytes { get; set; } = 32 * 1024;

    /// <summary>Large bundles processed at once; 0 means the number of cores. The others wait their turn.</summary>
    public int MaxConcurrentLarge { get; set; }

    /// <summary>Large bundles that may wait; past that a large bundle is answered 503.</summary>
    public int MaxQueuedLarge { get; set; } = 1000;
}
