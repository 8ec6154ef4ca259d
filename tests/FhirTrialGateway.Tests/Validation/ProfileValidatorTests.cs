using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Validation;

public sealed class ProfileValidatorTests
{
    private static ProfileValidator Validator => SharedValidators.Default;

    [Fact]
    public void Lists_the_package_profiles_and_knows_them()
    {
        Validator.PackageProfiles.Should().Contain(SharedValidators.AdverseEventProfile).And.HaveCount(14);
        Validator.PackageProfiles.Should().NotContain(p => p.EndsWith("/limb-side", StringComparison.Ordinal), "extensions are not resource profiles");
        Validator.IsKnownProfile(SharedValidators.AdverseEventProfile).Should().BeTrue();
        Validator.IsKnownProfile(SharedValidators.AdverseEventProfile + "|0.1.0").Should().BeTrue();
        Validator.IsKnownProfile("http://hl7.org/fhir/StructureDefinition/Patient").Should().BeTrue();
        Validator.IsKnownProfile("http://example.org/StructureDefinition/nope").Should().BeFalse();
    }

    [Fact]
    public void An_unknown_profile_asked_for_is_an_error_issue_naming_it()
    {
        var outcome = Validator.Validate(new Patient { Id = "p1" }, ["http://example.org/StructureDefinition/nope"]);

        var error = outcome.Issue.Should().ContainSingle(i => ValidationIssues.IsError(i)).Which;
        error.Code.Should().Be(OperationOutcome.IssueType.NotFound);
        ValidationIssues.Message(error).Should().Contain("http://example.org/StructureDefinition/nope");
        error.Expression.Should().Equal("Patient");
    }

    [Fact]
    public void An_unknown_meta_profile_claim_is_a_warning_not_an_error()
    {
        var patient = new Patient { Id = "p1", Meta = new Meta { Profile = ["http://example.org/StructureDefinition/nope"] } };

        var outcome = Validator.Validate(patient);

        outcome.Issue.Should().NotContain(i => ValidationIssues.IsError(i));
        outcome.Issue.Should().Contain(i => i.Severity == OperationOutcome.IssueSeverity.Warning &&
                                            ValidationIssues.Message(i).Contains("http://example.org/StructureDefinition/nope"));
    }

    [Fact]
    public void Issues_inside_a_bundle_point_at_the_entry()
    {
        var bundle = new Bundle { Type = Bundle.BundleType.Collection };
        bundle.Entry.Add(new Bundle.EntryComponent { FullUrl = "urn:uuid:8f0c1c3e-0000-4000-8000-000000000001", Resource = new Patient { Id = "p" } });
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = "urn:uuid:8f0c1c3e-0000-4000-8000-000000000002",
            Resource = SharedValidators.Load("invalid/Observation-ulcer-area-unit-mm2.json"),
        });

        var outcome = Validator.Validate(bundle);

        var error = outcome.Issue.Should().ContainSingle(i => ValidationIssues.IsError(i)).Which;
        error.Expression.Should().Equal("Bundle.entry[1].resource.value.code");
        ValidationIssues.Message(error).Should().Contain("cm2");
    }

    [Fact]
    public void The_invalid_bundle_example_names_the_subject_entry()
    {
        var outcome = Validator.Validate(SharedValidators.Load("invalid/Bundle-subject-arm-not-in-study.json"));

        outcome.Issue.Should().ContainSingle(i => ValidationIssues.IsError(i))
            .Which.Expression.Single().Should().MatchRegex(@"^Bundle\.entry\[\d+\]\.resource$");
    }

    [Fact]
    public void Relocate_points_issues_of_a_lone_resource_into_its_transaction_entry()
    {
        var outcome = Validator.Validate(SharedValidators.Load("invalid/Observation-ulcer-area-unit-mm2.json"));

        ValidationIssues.Relocate(outcome, "Bundle.entry[3].resource");

        outcome.Issue.Where(ValidationIssues.IsError).Single().Expression.Should().Equal("Bundle.entry[3].resource.value.code");
    }

    [Fact]
    public async Task Write_check_is_skipped_when_nothing_is_claimed_or_required()
    {
        (await Validator.ValidateForWriteAsync(new Patient { Id = "p1", BirthDate = "1970-01-01" })).Should().BeNull();
    }

    [Fact]
    public async Task Write_check_validates_a_claimed_known_profile()
    {
        var outcome = await Validator.ValidateForWriteAsync(SharedValidators.Load("invalid/Patient-full-birth-date.json"));

        outcome.Should().NotBeNull();
        outcome!.Issue.Should().Contain(i => ValidationIssues.IsError(i) && ValidationIssues.Message(i).Contains("tpat-1"));
    }

    [Fact]
    public async Task Required_profile_applies_to_resources_that_claim_nothing()
    {
        using var validator = SharedValidators.With(o => o.RequiredProfiles["AdverseEvent"] = [SharedValidators.AdverseEventProfile]);
        var bare = new AdverseEvent
        {
            Id = "ae1",
            Actuality = AdverseEvent.AdverseEventActuality.Actual,
            Subject = new ResourceReference("Patient/p1"),
        };

        var outcome = await validator.ValidateForWriteAsync(bare);

        outcome.Should().NotBeNull();
        ValidationIssues.HasErrors(outcome!).Should().BeTrue("the trial AE profile needs grade, date, seriousness, outcome and study");
        (await validator.ValidateForWriteAsync(new Patient { Id = "p1" })).Should().BeNull("Patient has no required profile");

        var valid = SharedValidators.Load("valid/AdverseEvent-grade-2-moderate.json");
        valid.Meta = null;
        ValidationIssues.HasErrors((await validator.ValidateForWriteAsync(valid))!).Should().BeFalse();
    }

    [Fact]
    public async Task A_write_waiting_for_its_turn_holds_no_thread_and_can_be_cancelled()
    {
        // The server's writes wait here when every core is validating; a blocked wait would hold a thread-pool thread
        // per waiting request (on 2 cores, 16 concurrent validated creates starved the pool).
        using var validator = SharedValidators.With(_ => { });
        var invalid = SharedValidators.Load("invalid/Patient-full-birth-date.json");
        await validator.ValidateForWriteAsync(invalid); // compiles the profile outside the test's timing
        for (var turn = 0; turn < Environment.ProcessorCount; turn++)
        {
            validator.Turns.Wait();
        }

        using var cancelled = new CancellationTokenSource();
        var started = Task.Factory.StartNew(() => (Waiting: validator.ValidateForWriteAsync(invalid).AsTask(),
            Cancelled: validator.ValidateForWriteAsync(invalid, cancelled.Token).AsTask()), TaskCreationOptions.LongRunning);
        var (waiting, toCancel) = await started.WaitAsync(TimeSpan.FromSeconds(30)); // times out when the callers block
        waiting.IsCompleted.Should().BeFalse("every turn is taken");
        await cancelled.CancelAsync();
        await toCancel.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();

        validator.Turns.Release(Environment.ProcessorCount);
        var outcome = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        outcome!.Issue.Should().Contain(i => ValidationIssues.IsError(i) && ValidationIssues.Message(i).Contains("tpat-1"));
        validator.Turns.CurrentCount.Should().Be(Environment.ProcessorCount, "the cancelled wait took no turn and the finished one gave its back");
    }

    [Fact]
    public void A_required_profile_nobody_defines_fails_at_warm_up()
    {
        using var validator = SharedValidators.With(o => o.RequiredProfiles["AdverseEvent"] = ["http://example.org/StructureDefinition/ae"]);

        validator.Invoking(v => v.Warm()).Should().Throw<InvalidOperationException>().WithMessage("*RequiredProfiles:AdverseEvent*example.org*");
    }

    // core Attachment.contentType has a required binding to all of urn:ietf:bcp:13, which the local terminology
    // service cannot expand: the stand-in for LOINC/SNOMED-wide bindings.
    private static Patient WithUncheckableCode() => new() { Id = "p1", Photo = { new Attachment { ContentType = "image/jpeg" } } };

    [Fact]
    public void Codes_from_systems_we_cannot_check_are_warnings_by_default()
    {
        var outcome = Validator.Validate(WithUncheckableCode());

        outcome.Issue.Should().NotContain(i => ValidationIssues.IsError(i));
        outcome.Issue.Should().ContainSingle(i => i.Severity == OperationOutcome.IssueSeverity.Warning)
            .Which.Expression.Should().Equal("Patient.photo[0].contentType");
    }

    [Fact]
    public void Codes_from_systems_we_cannot_check_can_be_errors_or_ignored()
    {
        using var strict = SharedValidators.With(o => o.UnknownCodeSystems = UnknownCodeSystemPolicy.Error);
        using var lenient = SharedValidators.With(o => o.UnknownCodeSystems = UnknownCodeSystemPolicy.Ignore);

        strict.Validate(WithUncheckableCode()).Issue.Should().ContainSingle(i => ValidationIssues.IsError(i));
        lenient.Validate(WithUncheckableCode()).Issue.Should().BeEmpty();
    }

    [Fact]
    public void Codes_of_an_enumerated_value_set_are_checked_even_without_the_code_system()
    {
        // ctcae-grade lists NCIt codes: membership is checked although NCIt itself is not held.
        var outcome = Validator.Validate(SharedValidators.Load("invalid/AdverseEvent-grade-not-ctcae.json"));

        outcome.Issue.Should().Contain(i => ValidationIssues.IsError(i) && ValidationIssues.Message(i).Contains("C41333"));
    }

    [Fact]
    public async Task Validates_on_several_threads_at_once()
    {
        var examples = Directory.GetFiles(SharedValidators.Example("valid"), "*.json")
            .Select(f => SharedValidators.Load(Path.Combine("valid", Path.GetFileName(f)))).ToList();

        var runs = Enumerable.Range(0, 4).Select(_ => System.Threading.Tasks.Task.Run(
            () => examples.Sum(r => Validator.Validate(r).Issue.Count(ValidationIssues.IsError))));
        var errorCounts = await System.Threading.Tasks.Task.WhenAll(runs);

        errorCounts.Should().AllBeEquivalentTo(0);
    }
}
