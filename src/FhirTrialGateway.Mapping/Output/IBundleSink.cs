using Hl7.Fhir.Model;

namespace FhirTrialGateway.Mapping.Output;

/// <summary>What sending one bundle did, per resource; or why the receiver refused it.</summary>
public sealed record SendResult(int Created, int Updated, int Unchanged, int Written, string? Refused = null);

/// <summary>Where transaction bundles go: a folder, stdout, or a gateway. Implementations are thread-safe.</summary>
public interface IBundleSink : IAsyncDisposable
{
    Task<SendResult> SendAsync(string key, Bundle bundle, CancellationToken cancellationToken);
}
