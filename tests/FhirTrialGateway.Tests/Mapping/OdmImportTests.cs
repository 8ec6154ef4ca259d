using FhirTrialGateway.Mapping;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

public class OdmImportTests
{
    private static readonly TrialMapping Mapping = TrialMapping.Load(EpcMapping);

    internal static async Task<(ImportSummary Summary, CollectingSink Sink)> Import(EpcCliExportGenerator generator, bool skipInvalid = false)
    {
        var file = TempFile("epc-cli.odm.xml");
        generator.Write(file);
        var sink = new CollectingSink();
        var summary = await Importer.OdmAsync([file], Mapping, "NCT06359912", Checker, sink, skipInvalid, null, CancellationToken.None);
        return (summary, sink);
    }

    [Fact]
    public async Task The_synthetic_epc_cli_dataset_imports_and_every_resource_conforms()
    {
        var (summary, sink) = await Import(new EpcCliExportGenerator());

        summary.Issues.Where(i => i.IsError).Should().BeEmpty();
        summary.Subjects.Should().Be(27);
        summary.Sent.Should().Be(27);
        var subjects = sink.All<ResearchSubject>().ToList();
        subjects.Select(s => s.AssignedArm).Distinct().Should().BeEquivalentTo(["IV", "Clinical standard treatment"]);
        subjects.Count(s => s.Status == ResearchSubject.ResearchSubjectStatus.Withdrawn).Should().Be(Enumerable.Range(1, 27).Count(EpcCliExportGenerator.IsWithdrawn));
        var grades = sink.All<AdverseEvent>().Select(a => ((CodeableConcept)a.Extension[0].Value).Coding[0].Code).Distinct();
        grades.Should().BeEquivalentTo(["C41338", "C41339", "C41340", "C41337", "C48275"]);
        sink.All<AdverseEvent>().Where(a => a.Severity is not null).Should().OnlyContain(a => a.Severity.Coding[0].Code != "severe" || ((CodeableConcept)a.Extension[0].Value).Coding[0].Code == "C41340");
        sink.All<Encounter>().Select(e => e.Type[0].Coding[0].Code).Distinct().Should().BeEquivalentTo(["screening", "baseline", "month-1", "month-3", "month-6", "month-12"]);
        sink.All<Observation>().Select(o => o.Meta.Profile.Single()).Distinct().Should().HaveCount(6);

        // Pseudonymous: the initials in the export are dropped and reported, never sent.
        summary.Issues.Should().Contain(i => !i.IsError && i.Item == "IT.INITIALS");
        sink.All<Patient>().Should().OnlyContain(p => p.Name.Count == 0 && p.Address.Count == 0 && p.BirthDate.Length == 4);
        sink.Bundles.Values.SelectMany(b => b.Entry).Should().OnlyContain(e => e.Request.Method == Bundle.HTTPVerb.PUT);
    }

    [Fact]
    public async Task The_same_export_always_produces_the_same_bundles()
    {
        var (_, first) = await Import(new EpcCliExportGenerator(4));
        var (_, second) = await Import(new EpcCliExportGenerator(4));
        foreach (var (key, bundle) in first.Bundles)
        {
            TestData.ToJson(second.Bundles[key]).Should().Be(TestData.ToJson(bundle));
        }
    }

    [Theory]
    [InlineData("IT.RUTH", "7", "out of range")]
    [InlineData("IT.ULCAREA", "-1.5", "out of range")]
    [InlineData("IT.VISDAT", "2024-13-45", "not a calendar date")]
    [InlineData("IT.VISDAT", "03/12/2024", "not a date")]
    [InlineData("IT.PWD", "far", "not a number")]
    public async Task A_bad_value_is_reported_with_file_line_xpath_subject_and_visit_and_nothing_is_sent(string item, string value, string message)
    {
        var generator = new EpcCliExportGenerator(5);
        generator.Overrides[("P003", "SE.M3", item)] = value;
        var (summary, sink) = await Import(generator);

        sink.Bundles.Should().BeEmpty("by default one invalid subject stops the whole import");
        var issue = summary.Issues.Should().ContainSingle(i => i.IsError).Subject;
        issue.Message.Should().Contain(message);
        issue.Subject.Should().Be("P003");
        issue.Visit.Should().Be("month-3");
        issue.Item.Should().Be(item);
        issue.File.Should().EndWith("epc-cli.odm.xml");
        issue.Line.Should().BeGreaterThan(1);
        issue.Path.Should().Contain("SubjectData[@SubjectKey='P003']").And.Contain("StudyEventData[@StudyEventOID='SE.M3']").And.Contain($"[@ItemOID='{item}']");
        summary.RejectedSubjects.Should().Equal("P003");
    }

    [Fact]
    public async Task Skip_invalid_sends_the_valid_subjects_and_lists_the_rest()
    {
        var generator = new EpcCliExportGenerator(5);
        generator.Overrides[("P002", "SE.M1", "IT.RUTH")] = "7";
        var (summary, sink) = await Import(generator, skipInvalid: true);

        sink.Bundles.Keys.Should().BeEquivalentTo(["P001", "P003", "P004", "P005"]);
        summary.RejectedSubjects.Should().Equal("P002");
        summary.Sent.Should().Be(4);
    }

    [Fact]
    public async Task An_unknown_item_and_an_unknown_code_are_errors()
    {
        var generator = new EpcCliExportGenerator(3);
        generator.Extra.Add(("P001", "SE.M1", "IT.HBA1C", "6.1"));
        generator.Overrides[("P002", "SE.SCREENING", "IT.ARM")] = "3";
        var (summary, sink) = await Import(generator);

        sink.Bundles.Should().BeEmpty();
        summary.Issues.Should().Contain(i => i.IsError && i.Subject == "P001" && i.Item == "IT.HBA1C" && i.Message.Contains("unknown item"));
        summary.Issues.Should().Contain(i => i.IsError && i.Subject == "P002" && i.Item == "IT.ARM" && i.Message.Contains("'3'"));
    }

    [Fact]
    public async Task A_malformed_file_is_reported_with_its_line_and_nothing_of_it_is_sent()
    {
        var file = TempFile("broken.odm.xml");
        new EpcCliExportGenerator(3).Write(file);
        var text = await File.ReadAllTextAsync(file);
        await File.WriteAllTextAsync(file, text[..(text.Length * 2 / 3)]);
        var sink = new CollectingSink();

        var summary = await Importer.OdmAsync([file], Mapping, "NCT06359912", Checker, sink, skipInvalid: true, null, CancellationToken.None);

        sink.Bundles.Should().BeEmpty("a malformed file is refused whole, even with --skip-invalid");
        var issue = summary.Issues.Should().ContainSingle().Subject;
        issue.Message.Should().StartWith("Malformed XML");
        issue.File.Should().Be(file);
        issue.Line.Should().BeGreaterThan(1);
    }

    [Fact]
    public async Task An_adverse_event_missing_its_grade_names_the_event_and_the_item()
    {
        var generator = new EpcCliExportGenerator(3);
        generator.Overrides[("P002", "SE.AELOG", "IT.AEGRADE")] = null;
        var (summary, _) = await Import(generator);

        summary.Issues.Should().Contain(i => i.IsError && i.Subject == "P002" && i.Item == "IT.AEGRADE" && i.Message.Contains("adverse event 1 has no CTCAE grade"));
    }
}
