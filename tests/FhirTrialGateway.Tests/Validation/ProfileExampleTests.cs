using System.Text.Json;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>profiles/examples: every valid example passes, every invalid one fails with the error index.json names.</summary>
public sealed class ProfileExampleTests
{
    private static readonly JsonElement Index =
        JsonDocument.Parse(File.ReadAllText(SharedValidators.Example("index.json"))).RootElement;

    public static TheoryData<string> ValidExamples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Index.GetProperty("valid").EnumerateArray())
        {
            data.Add(file.GetString()!);
        }

        return data;
    }

    public static TheoryData<string> InvalidExamples()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Index.GetProperty("invalid").EnumerateArray())
        {
            data.Add(entry.GetProperty("file").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidExamples))]
    public void Valid_example_has_no_errors(string file)
    {
        var outcome = SharedValidators.Default.Validate(SharedValidators.Load(Path.Combine("valid", file)));

        outcome.Issue.Where(ValidationIssues.IsError).Select(Describe).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public void Invalid_example_fails_with_the_intended_error(string file)
    {
        var expectation = Index.GetProperty("invalid").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);
        var texts = expectation.GetProperty("expectedErrorContains").EnumerateArray().Select(t => t.GetString()!).ToList();
        var location = expectation.TryGetProperty("expectedLocationContains", out var l) ? l.GetString() : null;
        var profile = expectation.GetProperty("profile").GetString()!;
        var resource = SharedValidators.Load(file);

        // Validated as the server would on $validate?profile=: against the profile the example is meant to break.
        var outcome = SharedValidators.Default.Validate(resource, [profile]);

        var errors = outcome.Issue.Where(ValidationIssues.IsError).ToList();
        errors.Should().NotBeEmpty($"{file} breaks: {expectation.GetProperty("breaks").GetString()}");
        errors.Should().OnlyContain(
            i => texts.Any(t => ValidationIssues.Message(i).Contains(t, StringComparison.OrdinalIgnoreCase)) &&
                 (location == null || ValidationIssues.Where(i).Contains(location, StringComparison.OrdinalIgnoreCase)),
            $"every error must name one of [{string.Join(", ", texts)}]{(location is null ? "" : " at " + location)}; got: {string.Join(" | ", errors.Select(Describe))}");
        errors.Should().OnlyContain(i => i.Expression.Any() && i.Code != null, "issues carry a code and a FHIRPath expression");
    }

    private static string Describe(OperationOutcome.IssueComponent issue) =>
        $"{issue.Severity} {ValidationIssues.Message(issue)} @ {ValidationIssues.Where(issue)}";
}
