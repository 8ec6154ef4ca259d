using FhirTrialGateway.Mapping;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>
/// The EDC samples of ../shared/data/edc through the sample mappings in Samples/. They are other studies' data with
/// gaps (no visit dates, AEs without dates or outcomes, text in numeric items): what conforms is produced, what
/// does not is reported precisely.
/// </summary>
public class EdcSampleImportTests
{
    private static string Edc(string relative) => Path.Combine(SharedData, "edc", relative);

    [SkippableFact]
    public async Task The_odm_snapshot_imports_and_its_bad_values_are_reported_precisely()
    {
        SkipWithoutSharedData("edc/odm/odm-data-snapshot.xml");
        var sink = new CollectingSink();
        var summary = await Importer.OdmAsync([Edc("odm/odm-data-snapshot.xml")], TrialMapping.Load(Sample("odm-virus.mapping.json")), "NCT00000001",
            Checker, sink, skipInvalid: true, null, CancellationToken.None);

        summary.Subjects.Should().Be(2);
        // SS_0001's diastolic pressure is "ee" in the export.
        summary.Issues.Should().Contain(i => i.IsError && i.Subject == "SS_0001" && i.Item == "IT.PT_DBP" && i.Message.Contains("'ee' is not a number")
            && i.Line > 0 && i.Path!.Contains("SubjectData[@SubjectKey='SS_0001']"));
        // Its adverse events have a grade "No" and no dates: each is named.
        summary.Issues.Should().Contain(i => i.IsError && i.Item == "IT.AETOXGR" && i.Message.Contains("'No'"));
        summary.Issues.Should().Contain(i => i.IsError && i.Item == "IT.AESTDAT" && i.Message.Contains("has no start date"));
        summary.RejectedSubjects.Should().Contain("SS_0001");
    }

    [SkippableFact]
    public async Task The_dataset_xml_adverse_events_are_read_per_subject()
    {
        SkipWithoutSharedData("edc/odm/ae_test.Dataset-XML.xml");
        var summary = await Importer.OdmAsync([Edc("odm/ae_test.Dataset-XML.xml")], TrialMapping.Load(Sample("dataset-xml-ae.mapping.json")), "NCT00000001",
            Checker, new CollectingSink(), skipInvalid: true, null, CancellationToken.None);

        summary.Subjects.Should().Be(1);
        summary.RejectedSubjects.Should().Equal("CDISC01.100008");
        summary.Issues.Where(i => i.IsError).Select(i => i.Message).Should().Contain(m => m.Contains("adverse event 1 has no start date"))
            .And.Contain(m => m.Contains("adverse event 2 has no CTCAE grade"));
    }

    [SkippableFact]
    public async Task The_redcap_classic_export_drops_every_identifying_field_and_says_so()
    {
        SkipWithoutSharedData("edc/redcap-clinical-trial-1");
        var sink = new CollectingSink();
        var summary = await Importer.RedcapAsync(Edc("redcap-clinical-trial-1/dictionary.csv"), [Edc("redcap-clinical-trial-1/data.csv")],
            TrialMapping.Load(Sample("redcap-clinical-trial-1.mapping.json")), "NCT00000001", Checker, sink, false, null, CancellationToken.None);

        summary.Issues.Where(i => i.IsError).Should().BeEmpty();
        summary.Subjects.Should().Be(500);
        summary.Issues.Where(i => !i.IsError).Select(i => i.Item).Should().BeEquivalentTo(["name_last", "name_first", "address", "phone", "dob", "email"]);
        var patients = sink.All<Patient>().ToList();
        patients.Should().HaveCount(500).And.OnlyContain(p => p.Name.Count == 0 && p.Telecom.Count == 0 && p.Address.Count == 0 && p.BirthDate == null);
        patients.Should().Contain(p => p.Gender == AdministrativeGender.Female).And.Contain(p => p.Gender == AdministrativeGender.Male);
    }

    [SkippableFact]
    public async Task The_redcap_longitudinal_export_becomes_one_visit_per_event()
    {
        SkipWithoutSharedData("edc/redcap-arm-single-longitudinal");
        var sink = new CollectingSink();
        var summary = await Importer.RedcapAsync(Edc("redcap-arm-single-longitudinal/dictionary.csv"), [Edc("redcap-arm-single-longitudinal/data.csv")],
            TrialMapping.Load(Sample("redcap-longitudinal.mapping.json")), "NCT00000001", Checker, sink, false, null, CancellationToken.None);

        summary.Issues.Where(i => i.IsError).Should().BeEmpty();
        summary.Issues.Should().Contain(i => !i.IsError && i.Item == "image_profile", "file uploads (here a photo) are dropped");
        sink.All<Encounter>().Should().HaveCount(9);
        sink.All<Observation>().Select(o => ((Quantity)o.Value).Value).Should().Contain(13m);
    }

    [SkippableFact]
    public async Task The_redcap_repeating_export_without_dates_is_refused_with_the_reason()
    {
        SkipWithoutSharedData("edc/redcap-vignette-repeating");
        var sink = new CollectingSink();
        var summary = await Importer.RedcapAsync(Edc("redcap-vignette-repeating/dictionary.csv"), [Edc("redcap-vignette-repeating/data.csv")],
            TrialMapping.Load(Sample("redcap-repeating.mapping.json")), "NCT00000001", Checker, sink, false, null, CancellationToken.None);

        sink.Bundles.Should().BeEmpty();
        summary.Issues.Should().Contain(i => i.IsError && i.Item == "visit_date" && i.Message.Contains("no date") && i.Line > 1);
    }

    [Fact]
    public async Task A_redcap_file_with_a_broken_row_is_refused_with_its_line()
    {
        var dictionary = TempFile("dictionary.csv");
        await File.WriteAllTextAsync(dictionary, "\"Variable / Field Name\",\"Form Name\",\"Field Type\",\"Text Validation Type OR Show Slider Number\",Identifier?\nrecord_id,f,text,,\n");
        var data = Path.Combine(Path.GetDirectoryName(dictionary)!, "data.csv");
        await File.WriteAllTextAsync(data, "record_id,x\n1,2\n2,\"open\n");
        var sink = new CollectingSink();
        var summary = await Importer.RedcapAsync(dictionary, [data], TrialMapping.Load(EpcMapping), "NCT06359912", Checker, sink, true, null, CancellationToken.None);

        sink.Bundles.Should().BeEmpty();
        summary.Issues.Should().ContainSingle(i => i.IsError && i.Line == 3 && i.Message.Contains("quoted field is not closed"));
    }
}
