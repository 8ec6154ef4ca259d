using System.Text;
using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Ctgov;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

public class CtgovImportTests
{
    private static MappedBundle MapAndCheck(string file)
    {
        using var stream = File.OpenRead(file);
        return Checker.Check(CtgovStudyMapper.Map(stream, file), file);
    }

    private static MappedBundle MapText(string json) =>
        CtgovStudyMapper.Map(new MemoryStream(Encoding.UTF8.GetBytes(json)), "inline.json");

    [SkippableFact]
    public void Every_real_registry_record_imports_and_validates()
    {
        SkipWithoutSharedData("ctgov");
        var files = Directory.GetFiles(Path.Combine(SharedData, "ctgov"), "NCT*.json");
        files.Should().HaveCountGreaterThanOrEqualTo(5);
        foreach (var file in files)
        {
            var mapped = MapAndCheck(file);
            mapped.Issues.Where(i => i.IsError).Should().BeEmpty(Path.GetFileName(file));
            var study = mapped.Resources[0].Resource.Should().BeOfType<ResearchStudy>().Subject;
            study.Identifier[0].System.Should().Be("https://clinicaltrials.gov/nctid");
            study.Identifier[0].Value.Should().Be(Path.GetFileNameWithoutExtension(file));
            mapped.Resources.Count(r => r.Resource is Group).Should().Be(1);
            study.Site.Should().NotBeEmpty();
            study.Site.Select(s => s.Reference).Should().OnlyContain(r => mapped.Resources.Any(m => m.RequestUrl == r));
        }
    }

    [SkippableFact]
    public void Registry_statuses_and_sites_map_as_the_table_says()
    {
        SkipWithoutSharedData("ctgov");
        ResearchStudy Study(string nct) => (ResearchStudy)MapAndCheck(Path.Combine(SharedData, "ctgov", nct + ".json")).Resources[0].Resource;

        Study("NCT00973089").Status.Should().Be(ResearchStudy.ResearchStudyStatus.Withdrawn);
        Study("NCT02210780").Status.Should().Be(ResearchStudy.ResearchStudyStatus.Completed);
        Study("NCT02210780").Period.End.Should().Be("2015-09-15");
        // UNKNOWN: the last known status, and a category saying it is unverified.
        var unknown = Study("NCT04207047");
        unknown.Status.Should().Be(ResearchStudy.ResearchStudyStatus.ClosedToAccrual);
        unknown.Category.Should().Contain(c => c.Text.StartsWith("Registry status unknown", StringComparison.Ordinal));
        unknown.Period.End.Should().BeNull("an ESTIMATED completion date is a plan, not an end");
        var large = MapAndCheck(Path.Combine(SharedData, "ctgov", "NCT02513394.json"));
        large.Resources.OfType<MappedResource>().Count(r => r.Resource is Location).Should().BeGreaterThan(400);
        ((ResearchStudy)large.Resources[0].Resource).Status.Should().Be(ResearchStudy.ResearchStudyStatus.ClosedToAccrual);
        large.Resources.Count(r => r.Resource is PractitionerRole).Should().Be(4);
    }

    [SkippableFact]
    public void Every_registry_status_of_the_api_has_a_decided_mapping()
    {
        SkipWithoutSharedData("ctgov/ctg-oas-v2-enums.txt");
        var lines = File.ReadAllLines(Path.Combine(SharedData, "ctgov", "ctg-oas-v2-enums.txt"));
        string[] Values(string name) => lines.Single(l => l.StartsWith(name + " [", StringComparison.Ordinal))
            .Split('[', ']')[1].Split(',').Select(v => v.Trim().Trim('\'')).ToArray();
        Values("Status").Should().OnlyContain(v => CtgovCodes.Status.ContainsKey(v));
        Values("Phase").Should().OnlyContain(v => CtgovCodes.Phase.ContainsKey(v));
        Values("PrimaryPurpose").Should().OnlyContain(v => CtgovCodes.PrimaryPurpose.ContainsKey(v));
        Values("StudyType").Should().OnlyContain(v => CtgovCodes.StudyType.ContainsKey(v));
        Values("DesignAllocation").Should().OnlyContain(v => CtgovCodes.Allocation.ContainsKey(v));
        Values("InterventionalAssignment").Should().OnlyContain(v => CtgovCodes.InterventionModel.ContainsKey(v));
        Values("DesignMasking").Should().OnlyContain(v => CtgovCodes.Masking.ContainsKey(v));
        Values("WhoMasked").Should().OnlyContain(v => CtgovCodes.WhoMasked.ContainsKey(v));
        Values("ArmGroupType").Should().OnlyContain(v => CtgovCodes.ArmType.ContainsKey(v));
        Values("OfficialRole").Should().OnlyContain(v => CtgovCodes.OfficialRole.ContainsKey(v));
        Values("AgencyClass").Should().OnlyContain(v => CtgovCodes.AgencyClass.ContainsKey(v));
        Values("EnrollmentType").Should().OnlyContain(v => CtgovCodes.EnrollmentType.ContainsKey(v));
    }

    [Fact]
    public void The_epc_cli_record_fixture_imports_as_the_trial_profile_example_describes()
    {
        var mapped = MapAndCheck(EpcRecord);
        mapped.Issues.Where(i => i.IsError).Should().BeEmpty();
        var study = (ResearchStudy)mapped.Resources[0].Resource;
        study.Status.Should().Be(ResearchStudy.ResearchStudyStatus.Active);
        study.Phase.Coding[0].Code.Should().Be("phase-1");
        study.PrimaryPurposeType.Coding[0].Code.Should().Be("treatment");
        study.Arm.Select(a => a.Name).Should().Equal("IV", "Clinical standard treatment");
        study.Arm.Should().OnlyContain(a => a.Type == null, "the record gives no arm types, so none is invented");
        study.Objective.Should().HaveCount(6);
        study.Objective.Count(o => o.Type.Coding[0].Code == "primary").Should().Be(1);
        study.Objective[0].Name.Should().Contain("time frame: baseline to 1 year");
        study.Period.Start.Should().Be("2024-04-30");
        study.Category.Select(c => c.Text).Should().Equal("Interventional", "Randomized allocation", "No masking");
        mapped.Resources.Select(r => r.Resource).OfType<Group>().Single().Quantity.Should().Be(27);
        mapped.Resources.Select(r => r.Resource).OfType<Practitioner>().Single().Name[0].Text.Should().Be("Hui Shi");
        study.PrincipalInvestigator.Reference.Should().StartWith("Practitioner/");
        mapped.Resources.Select(r => r.Resource).OfType<Location>().Single().Address.City.Should().Be("Beijing");
    }

    [Fact]
    public void Combined_phases_map_to_the_combined_code_and_unknown_values_are_errors_with_their_path()
    {
        const string template = """
            {"protocolSection":{"identificationModule":{"nctId":"NCT01234567","briefTitle":"t"},
             "statusModule":{"overallStatus":"STATUS","startDateStruct":{"date":"2020-01"}},
             "designModule":{"studyType":"INTERVENTIONAL","phases":["PHASE2","PHASE1"]}}}
            """;
        var combined = MapText(template.Replace("STATUS", "RECRUITING", StringComparison.Ordinal));
        ((ResearchStudy)combined.Resources[0].Resource).Phase.Coding[0].Code.Should().Be("phase-1-phase-2");

        var unknown = MapText(template.Replace("STATUS", "HALTED", StringComparison.Ordinal));
        unknown.Issues.Should().ContainSingle(i => i.IsError && i.Path == "$.protocolSection.statusModule.overallStatus" && i.Message.Contains("HALTED"));

        var withheld = MapText(template.Replace("STATUS", "WITHHELD", StringComparison.Ordinal));
        withheld.HasErrors.Should().BeTrue("WITHHELD has no R4 status and is not guessed");

        var act = () => MapText("{\"protocolSection\": {");
        act.Should().Throw<ImportInputException>().Which.Issue.Line.Should().Be(1);
    }
}
