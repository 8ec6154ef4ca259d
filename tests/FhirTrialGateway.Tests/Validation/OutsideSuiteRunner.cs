using System.Collections.Concurrent;
using System.Text.Json;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>One validation of the outside suite: a case's input against core (step "base") or against the case's
/// profile (step "profile"), with HL7's expected error count and ours.</summary>
internal sealed record SuiteResult(string Case, string Step, string Module, int Expected, int Actual, string OurErrors)
{
    public bool VerdictAgrees => Expected > 0 == Actual > 0;

    public bool CountAgrees => Expected == Actual;
}

/// <summary>
/// Runs the engine over ../shared/data/fhir-test-cases-r4 (R4 cases of HL7's validator test suite, see its README):
/// each case's supporting files become the package of a fresh <see cref="ProfileValidator"/> (all of them share the
/// compiled core definitions), the input is parsed as the gateway parses it, and the error count (error + fatal
/// issues, parse errors included) is compared with the HL7 reference validator's.
/// </summary>
internal static class OutsideSuiteRunner
{
    /// <summary>The suite folder beside the repository (…/shared/data/fhir-test-cases-r4), or null.</summary>
    public static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FhirTrialGateway.sln")))
            {
                var suite = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "fhir-test-cases-r4"));
                return File.Exists(Path.Combine(suite, "cases.json")) ? suite : null;
            }
        }

        return null;
    }

    public static IReadOnlyList<SuiteResult> Run(string suite)
    {
        var validatorDir = Path.Combine(suite, "validator");
        using var cases = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(suite, "cases.json")));
        var work = Directory.CreateTempSubdirectory("fhir-suite-").FullName;
        var core = new SharedCoreDefinitions();
        var results = new ConcurrentBag<SuiteResult>();
        try
        {
            var all = cases.RootElement.GetProperty("cases").EnumerateArray().Select((c, i) => (Case: c.Clone(), Index: i)).ToList();
            Parallel.ForEach(all, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, item =>
            {
                var c = item.Case;
                var name = c.GetProperty("name").GetString()!;
                var module = c.GetProperty("module").GetString()!;
                var input = Path.Combine(validatorDir, c.GetProperty("file").GetString()!);
                var supporting = Strings(c, "supporting");

                results.Add(RunStep(core, work, $"{item.Index}-base", validatorDir, name, "base", module, input, supporting, null,
                    c.GetProperty("expected").GetProperty("errorCount").GetInt32()));

                if (c.TryGetProperty("profile", out var step) && step.ValueKind == JsonValueKind.Object)
                {
                    var source = step.GetProperty("source").GetString()!;
                    results.Add(RunStep(core, work, $"{item.Index}-profile", validatorDir, name, "profile", module, input,
                        [.. supporting, .. Strings(step, "supporting"), source], source,
                        step.GetProperty("expected").GetProperty("errorCount").GetInt32()));
                }
            });
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        return [.. results.OrderBy(r => r.Case, StringComparer.Ordinal).ThenBy(r => r.Step, StringComparer.Ordinal)];
    }

    private static SuiteResult RunStep(SharedCoreDefinitions core, string work, string key, string validatorDir, string name,
        string step, string module, string input, IReadOnlyList<string> supporting, string? profileSource, int expected)
    {
        try
        {
            var package = Path.Combine(work, key);
            Directory.CreateDirectory(package);
            string? profileUrl = null;
            foreach (var file in supporting.Distinct(StringComparer.Ordinal))
            {
                var resource = TryParse(Path.Combine(validatorDir, file));
                if (resource is null)
                {
                    continue;
                }

                // The package folder takes JSON only: XML supporting files are converted.
                File.WriteAllBytes(Path.Combine(package, $"{Path.GetFileNameWithoutExtension(file)}.json"), ResourceSerializer.SerializeJson(resource));
                if (file == profileSource && resource is IVersionableConformanceResource conformance)
                {
                    profileUrl = conformance.Url;
                }
            }

            using var validator = new ProfileValidator(new ValidationOptions { ProfilesPath = package }, null, core);
            OperationOutcome outcome;
            try
            {
                var instance = ResourceSerializer.Parse(File.ReadAllBytes(input), ValidateCommand.DetectFormat(input, File.ReadAllBytes(input)));
                outcome = validator.Validate(instance, profileUrl is null ? null : [profileUrl]);
            }
            catch (FhirException ex)
            {
                outcome = ex.Outcome;
            }

            var errors = outcome.Issue.Where(ValidationIssues.IsError).ToList();
            return new SuiteResult(name, step, module, expected, errors.Count,
                string.Join(" | ", errors.Take(3).Select(e => $"{ValidationIssues.Message(e)} @ {ValidationIssues.Where(e)}")));
        }
        catch (Exception ex)
        {
            return new SuiteResult(name, step, module, expected, -1, $"engine threw {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static Resource? TryParse(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var bytes = File.ReadAllBytes(path);
            return ResourceSerializer.Parse(bytes, ValidateCommand.DetectFormat(path, bytes));
        }
        catch (FhirException)
        {
            return null;
        }
    }

    private static List<string> Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(s => s.GetString()!)]
            : [];
}
