namespace FhirTrialGateway.Core.Bundles;

/// <summary>Configuration section "Bundles".</summary>
public sealed class BundleLimits
{
    /// <summary>Most entries accepted in one transaction or batch; more is answered 413.</summary>
    public int MaxEntries { get; set; } = 20_000;

    /// <summary>Largest bundle body (POST to the base); larger is answered 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024 * 1024;
}
