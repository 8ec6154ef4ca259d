using System.Collections.Concurrent;
using System.Text;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Terminology;

namespace FhirTrialGateway.Validation;

/// <summary>
/// Remembers the answers of <c>$validate-code</c> against a ValueSet, the only terminology operation the validator
/// calls per element. The answers depend on nothing but the parameters and the loaded definitions, which do not change
/// for the life of a validator.
/// </summary>
/// <remarks>
/// Why: Firely's validator waits synchronously for each binding check, and <see cref="LocalTerminologyService"/>
/// completes asynchronously behind a process-wide semaphore, so every coded element cost a hop to another pool thread
/// and a spinning wait for it (measured: two thirds of the time of validating a trial Observation). A remembered answer
/// is a completed task: no hop, no wait, no semaphore.
/// </remarks>
internal sealed class MemoizingTerminologyService(ITerminologyService inner, int capacity = 20_000) : ITerminologyService
{
    private readonly ConcurrentDictionary<string, Task<Parameters>> _answers = new(StringComparer.Ordinal);

    public Task<Parameters> ValueSetValidateCode(Parameters parameters, string? id = null, bool useGet = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (KeyOf(parameters, id, useGet) is not { } key)
        {
            return inner.ValueSetValidateCode(parameters, id, useGet);
        }

        if (_answers.TryGetValue(key, out var known))
        {
            return CopyOf(known);
        }

        var answer = AskAsync(parameters, id, useGet);
        if (_answers.Count >= capacity)
        {
            // Bounded: codes come from clients, so the set of questions is theirs to grow. Starting over is rare and cheap.
            _answers.Clear();
        }

        _answers.TryAdd(key, answer);
        return CopyOf(answer);
    }

    // The inner service is asked once, on a pool thread, so that an exception it throws synchronously is kept like
    // one it reports through its task, and both are handed to every caller alike.
    private Task<Parameters> AskAsync(Parameters parameters, string? id, bool useGet) =>
        System.Threading.Tasks.Task.Run(() => inner.ValueSetValidateCode((Parameters)parameters.DeepCopy(), id, useGet));

    // Each caller gets its own copy of the answer: the validator may annotate or change what it is given.
    private static async Task<Parameters> CopyOf(Task<Parameters> answer) =>
        answer.IsCompletedSuccessfully
            ? (Parameters)answer.Result.DeepCopy()
            : (Parameters)(await answer.ConfigureAwait(false)).DeepCopy();

    /// <summary>A key for a question made only of values (codes, codings, URLs); null when it carries a resource.</summary>
    private static string? KeyOf(Parameters parameters, string? id, bool useGet)
    {
        if (parameters.Parameter.Any(p => p.Resource is not null || p.Part.Count > 0))
        {
            return null;
        }

        var key = new StringBuilder(id).Append('|').Append(useGet).Append('|');
        key.Append(Encoding.UTF8.GetString(ResourceSerializer.SerializeJson(parameters)));
        return key.ToString();
    }

    public Task<Parameters> Subsumes(Parameters parameters, string? id = null, bool useGet = false) => inner.Subsumes(parameters, id, useGet);

    public Task<Parameters> CodeSystemValidateCode(Parameters parameters, string? id = null, bool useGet = false) =>
        inner.CodeSystemValidateCode(parameters, id, useGet);

    public Task<Parameters> Lookup(Parameters parameters, bool useGet = false) => inner.Lookup(parameters, useGet);

    public Task<Parameters> Translate(Parameters parameters, string? id = null, bool useGet = false) => inner.Translate(parameters, id, useGet);

    public Task<Resource> Closure(Parameters parameters, bool useGet = false) => inner.Closure(parameters, useGet);

    public Task<Resource> Expand(Parameters parameters, string? id = null, bool useGet = false) => inner.Expand(parameters, id, useGet);
}
