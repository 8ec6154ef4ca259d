using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Lets one look-up at a time through to the snapshot-generating resolver below it.
/// </summary>
/// <remarks>
/// Why: below the SnapshotSource sits a cache, so the generator works on shared StructureDefinition instances and
/// completes their snapshots in place. Firely's schema compiler resolves the target profiles of references in
/// parallel; two of those generating on the same instance at once, or one reading it while another generates, gave
/// broken definitions (seen: "The schema returned for an extension should be of type ExtensionSchema"). Once a
/// definition has come out of here it is complete and never changed again, so only this path needs the turn-taking,
/// and it is only taken for definitions not yet in the memory or disk caches above it.
/// </remarks>
internal sealed class OneAtATimeResolver(IAsyncResourceResolver source) : IAsyncResourceResolver
{
    private readonly Lock _turn = new();

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) => OneAtATimeAsync(() => source.TryResolveByCanonicalUriAsync(uri));

    public Task<ResolverResult> TryResolveByUriAsync(string uri) => OneAtATimeAsync(() => source.TryResolveByUriAsync(uri));

    [Obsolete("Use TryResolveByCanonicalUriAsync.")]
    public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) => (await TryResolveByCanonicalUriAsync(uri).ConfigureAwait(false)).Value;

    [Obsolete("Use TryResolveByUriAsync.")]
    public async Task<Resource?> ResolveByUriAsync(string uri) => (await TryResolveByUriAsync(uri).ConfigureAwait(false)).Value;

    // Waiting inside the lock is safe: the sources below read files and complete synchronously, and the generator
    // never calls back up through this resolver.
    private Task<ResolverResult> OneAtATimeAsync(Func<Task<ResolverResult>> resolve)
    {
        lock (_turn)
        {
            return System.Threading.Tasks.Task.FromResult(resolve().GetAwaiter().GetResult());
        }
    }
}
