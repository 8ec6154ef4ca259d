using System.Security.Cryptography;
using System.Text;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Keeps the definitions the validator resolved (StructureDefinitions with their generated snapshots, ValueSets,
/// CodeSystems), and the canonicals that resolved to nothing, on disk between runs. Generating snapshots of our
/// profiles and of the core types they reach, and reading core definitions out of the large XML bundles of the
/// specification, is most of a cold start; the next start reads a few small JSON files instead.
/// The SDK's snapshot generator still produces every snapshot, the first time, from the differentials.
/// </summary>
/// <remarks>
/// One folder per <see cref="DefinitionCacheKey"/>; one file per resolved URI, named by a hash of it. Each file starts
/// with a header line naming the URI and the SHA-256 of the body, so a truncated, edited or foreign file is detected,
/// deleted and resolved again, never trusted. Files are written to a temporary name and renamed, so readers in other
/// processes see a whole file or none. The cache is best effort: when the folder cannot be written, validation works
/// as without it.
/// </remarks>
internal sealed class DefinitionCache(string folder, IAsyncResourceResolver source) : IAsyncResourceResolver
{
    private const string Magic = "fhirgw-definition";
    private const string Found = "found";
    private const string Missing = "missing";

    /// <summary>Folders of other sources not opened for this long are removed when a cache is opened.</summary>
    internal static readonly TimeSpan Unused = TimeSpan.FromDays(30);

    private long _reused;
    private long _resolved;
    private long _rejected;

    public string Folder { get; } = folder;

    /// <summary>
    /// The cache for <paramref name="key"/> under <paramref name="root"/>. Opening marks the folder as in use and
    /// removes the folders of other keys unused for <see cref="Unused"/>: every profile change leaves one behind.
    /// </summary>
    public static DefinitionCache Open(string root, string key, IAsyncResourceResolver source)
    {
        var cache = new DefinitionCache(Path.Combine(root, key), source);
        try
        {
            Directory.CreateDirectory(cache.Folder);
            Directory.SetLastWriteTimeUtc(cache.Folder, DateTime.UtcNow);
            foreach (var other in Directory.EnumerateDirectories(root).Where(d => d != cache.Folder &&
                         Directory.GetLastWriteTimeUtc(d) < DateTime.UtcNow - Unused))
            {
                Directory.Delete(other, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort, like the rest of the cache: a read-only folder means no caching, not no validation.
        }

        return cache;
    }

    /// <summary>What this cache did so far: entries read from disk, entries resolved and stored, bad entries replaced.</summary>
    public DefinitionCacheStatistics Statistics => new(Interlocked.Read(ref _reused), Interlocked.Read(ref _resolved), Interlocked.Read(ref _rejected));

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) =>
        ResolveAsync("canonical", uri, () => source.TryResolveByCanonicalUriAsync(uri));

    public Task<ResolverResult> TryResolveByUriAsync(string uri) =>
        ResolveAsync("uri", uri, () => source.TryResolveByUriAsync(uri));

    [Obsolete("Use TryResolveByCanonicalUriAsync.")]
    public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) => (await TryResolveByCanonicalUriAsync(uri).ConfigureAwait(false)).Value;

    [Obsolete("Use TryResolveByUriAsync.")]
    public async Task<Resource?> ResolveByUriAsync(string uri) => (await TryResolveByUriAsync(uri).ConfigureAwait(false)).Value;

    private async Task<ResolverResult> ResolveAsync(string kind, string uri, Func<Task<ResolverResult>> resolve)
    {
        var key = kind + " " + uri;
        if (key.Contains('\n', StringComparison.Ordinal))
        {
            // Not expressible in the header line; such a URI is never a real canonical anyway.
            return await resolve().ConfigureAwait(false);
        }

        var path = Path.Combine(Folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32] + ".json");
        switch (TryRead(path, key, out var cached))
        {
            case ReadOutcome.Hit:
                Interlocked.Increment(ref _reused);
                return cached!.Value;
            case ReadOutcome.Corrupt:
                Interlocked.Increment(ref _rejected);
                TryDelete(path);
                break;
        }

        var result = await resolve().ConfigureAwait(false);
        Interlocked.Increment(ref _resolved);
        Store(path, key, result);
        return result;
    }

    private enum ReadOutcome
    {
        Absent,
        Hit,
        Corrupt,
    }

    private static ReadOutcome TryRead(string path, string key, out ResolverResult? result)
    {
        result = null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ReadOutcome.Absent;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ReadOutcome.Corrupt;
        }

        var newline = Array.IndexOf(bytes, (byte)'\n');
        if (newline < 0)
        {
            return ReadOutcome.Corrupt;
        }

        // Header: magic, state, SHA-256 of the body, then the key (which may contain spaces).
        var header = Encoding.UTF8.GetString(bytes, 0, newline).Split(' ', 4);
        var body = bytes.AsSpan(newline + 1);
        if (header.Length != 4 || header[0] != Magic || header[3] != key ||
            !string.Equals(header[2], Convert.ToHexStringLower(SHA256.HashData(body)), StringComparison.Ordinal))
        {
            return ReadOutcome.Corrupt;
        }

        if (header[1] == Missing)
        {
            result = new ResolverResult(new ResolverException(ResolverException.NOT_FOUND, $"'{key}' was not found in the conformance sources (remembered)."));
            return ReadOutcome.Hit;
        }

        try
        {
            result = new ResolverResult(ResourceSerializer.ParseStored(body.ToArray()));
            return ReadOutcome.Hit;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The hash matched but the SDK cannot read it back (an SDK change the key missed): resolve again.
            return ReadOutcome.Corrupt;
        }
    }

    private void Store(string path, string key, ResolverResult result)
    {
        byte[] body;
        string state;
        if (result.Value is { } resource)
        {
            body = ResourceSerializer.SerializeJson(resource);
            state = Found;
        }
        else if (IsPlainNotFound(result.Error))
        {
            // Not found in any source: as stable as the sources themselves, which the folder's key covers.
            body = [];
            state = Missing;
        }
        else
        {
            return;
        }

        var header = Encoding.UTF8.GetBytes($"{Magic} {state} {Convert.ToHexStringLower(SHA256.HashData(body))} {key}\n");
        var temporary = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            Directory.CreateDirectory(Folder);
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(header);
                file.Write(body);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only or full disk costs the next start its speed, not its correctness.
            TryDelete(temporary);
        }
    }

    // "No source has it" (MultiResolver wraps each source's answer in an AggregateException), as opposed to a source that
    // failed: only the former is remembered.
    private static bool IsPlainNotFound(Exception? error) => error switch
    {
        ResolverException { ErrorCode: ResolverException.NOT_FOUND or ResolverException.ARTIFACT_SUMMARY_NO_MATCH } found =>
            found.InnerException is null || IsPlainNotFound(found.InnerException),
        AggregateException all => all.InnerExceptions.All(IsPlainNotFound),
        _ => false,
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next writer, which replaces it by rename.
        }
    }
}

/// <summary>Counts of a <see cref="DefinitionCache"/>: entries reused from disk, resolved (and stored), and rejected as corrupt.</summary>
public readonly record struct DefinitionCacheStatistics(long Reused, long Resolved, long Rejected);
