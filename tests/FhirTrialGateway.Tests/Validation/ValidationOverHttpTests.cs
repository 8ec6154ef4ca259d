using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>
/// $validate and validation on write through real HTTP, with the shared warmed validator registered in the gateway,
/// and the third entry point (the CLI) giving the same issues for the same input.
/// </summary>
public sealed class ValidationOverHttpTests : IAsyncLifetime
{
    private const string RutherfordProfile = SharedValidators.Base + "trial-rutherford-category";
    private TestGateway _gateway = null!;

    private HttpClient Http => _gateway.Http;

    // The gateway and its validator share one configuration in production; here the validator is built over the
    // test run's already compiled core definitions, with the same required profile the gateway is configured with.
    private static readonly Lazy<ProfileValidator> Validator = new(() =>
        SharedValidators.With(o => o.RequiredProfiles["AdverseEvent"] = [SharedValidators.AdverseEventProfile]));

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(
        builder => builder.Services.AddSingleton(Validator.Value),
        $"Validation:RequiredProfiles:AdverseEvent:0={SharedValidators.AdverseEventProfile}");

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static string Example(string relative) => File.ReadAllText(SharedValidators.Example(relative));

    private static IEnumerable<string> Errors(OperationOutcome outcome) =>
        outcome.Issue.Where(ValidationIssues.IsError).Select(i => $"{i.Severity}|{string.Join(",", i.Expression)}|{ValidationIssues.Message(i)}").Order();

    [Fact]
    public async Task Validate_operation_answers_200_with_issues_located_by_fhirpath()
    {
        var valid = await Http.PostAsync("fhir/Observation/$validate", TestGateway.Json(Example("valid/Observation-rutherford-1.json")));
        valid.StatusCode.Should().Be(HttpStatusCode.OK);
        (await TestData.ReadAsync<OperationOutcome>(valid)).Issue.Should().NotContain(i => ValidationIssues.IsError(i));

        var invalid = await Http.PostAsync("fhir/Observation/$validate", TestGateway.Json(Example("invalid/Observation-rutherford-grade-7.json")));
        invalid.StatusCode.Should().Be(HttpStatusCode.OK);
        var error = (await TestData.ReadAsync<OperationOutcome>(invalid)).Issue.Single(ValidationIssues.IsError);
        ValidationIssues.Message(error).Should().Contain("trc-1");
        error.Expression.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Validate_operation_takes_Parameters_and_profile_and_reports_unknown_profiles()
    {
        var parameters = new Parameters();
        parameters.Add("resource", TestData.Parse<Observation>(Example("invalid/Observation-rutherford-grade-7.json")));
        parameters.Add("mode", new Code("create"));
        var response = await Http.PostAsync("fhir/Observation/$validate", TestGateway.Json(TestData.ToJson(parameters)));
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Should().Contain(i => ValidationIssues.IsError(i));

        var unknown = await Http.PostAsync("fhir/Observation/$validate?profile=http://example.org/nope",
            TestGateway.Json(Example("valid/Observation-rutherford-1.json")));
        var issue = (await TestData.ReadAsync<OperationOutcome>(unknown)).Issue.Single(ValidationIssues.IsError);
        ValidationIssues.Message(issue).Should().Contain("http://example.org/nope");
    }

    [Fact]
    public async Task A_write_claiming_a_trial_profile_is_validated_and_rejected_with_422_storing_nothing()
    {
        var rejected = await Http.PostAsync("fhir/Observation", TestGateway.Json(Example("invalid/Observation-rutherford-grade-7.json")));
        rejected.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        var onWrite = await TestData.ReadAsync<OperationOutcome>(rejected);

        var viaOperation = await TestData.ReadAsync<OperationOutcome>(await Http.PostAsync("fhir/Observation/$validate",
            TestGateway.Json(Example("invalid/Observation-rutherford-grade-7.json"))));
        Errors(onWrite).Should().Equal(Errors(viaOperation), "$validate and validation on write give the same issues");

        var stdout = new StringWriter();
        var exit = ValidateCommand.Invoke([SharedValidators.Example("invalid/Observation-rutherford-grade-7.json"), "--format", "json"],
            TextReader.Null, stdout, new StringWriter(), new ValidationOptions { ProfilesPath = SharedValidators.ProfilesPath });
        exit.Should().Be(ValidateCommand.HasErrors);
        stdout.ToString().Should().Contain("trc-1");

        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Observation?_summary=count"))).Total.Should().Be(0);
        (await Http.PostAsync("fhir/Observation", TestGateway.Json(Example("valid/Observation-rutherford-1.json"))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_required_profile_applies_without_a_claim_and_fails_a_transaction_naming_the_entry()
    {
        var adverseEvent = TestData.Parse<AdverseEvent>(Example("invalid/AdverseEvent-grade-4-with-severity.json"));
        adverseEvent.Meta = null; // no claim: the configured requirement still applies
        (await Http.PostAsync("fhir/AdverseEvent", TestGateway.Json(TestData.ToJson(adverseEvent))))
            .StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);

        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new() { Resource = TestData.Subject("V-1"), Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new() { Resource = adverseEvent, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "AdverseEvent" } },
            ],
        };
        var response = await Http.PostAsync("fhir", TestGateway.Json(TestData.ToJson(bundle)));
        response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await TestData.ReadAsync<OperationOutcome>(response)).Issue.Where(ValidationIssues.IsError)
            .Should().OnlyContain(i => i.Expression.All(e => e.StartsWith("Bundle.entry[1]", StringComparison.Ordinal)));
        (await TestData.ReadAsync<Bundle>(await Http.GetAsync("fhir/Patient?_summary=count"))).Total.Should().Be(0);
    }
}
