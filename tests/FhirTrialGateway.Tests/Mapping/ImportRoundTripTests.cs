using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>Import into the real gateway, change one value in the export, re-import: exactly that value changes.</summary>
public class ImportRoundTripTests
{
    [Fact]
    public async Task Reimporting_an_updated_export_changes_exactly_the_changed_value_and_duplicates_nothing()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var sink = new ServerSink(new Uri(gateway.FhirBase));
        var mapping = TrialMapping.Load(EpcMapping);

        var study = await Importer.CtgovAsync([EpcRecord], Checker, sink, false, null, CancellationToken.None);
        study.Issues.Where(i => i.IsError).Should().BeEmpty();
        study.Created.Should().BeGreaterThan(0);

        async Task<ImportSummary> ImportOdm(EpcCliExportGenerator generator)
        {
            var file = TempFile("epc-cli.odm.xml");
            generator.Write(file);
            return await Importer.OdmAsync([file], mapping, "NCT06359912", Checker, sink, false, null, CancellationToken.None);
        }

        var first = await ImportOdm(new EpcCliExportGenerator(6));
        first.Issues.Where(i => i.IsError).Should().BeEmpty();
        first.Created.Should().BeGreaterThan(6 * 5);
        first.Updated.Should().Be(0);
        var total = first.Created;

        var again = await ImportOdm(new EpcCliExportGenerator(6));
        (again.Created, again.Updated, again.Unchanged).Should().Be((0, 0, total));

        var changed = new EpcCliExportGenerator(6);
        changed.Overrides[("P003", "SE.M6", "IT.RUTH")] = "1";
        var third = await ImportOdm(changed);
        (third.Created, third.Updated, third.Unchanged).Should().Be((0, 1, total - 1));

        var client = gateway.FhirClient();
        var found = await client.SearchAsync<Observation>(["identifier=https://fhirtrialgateway.org/sid/epc-cli/observation|P003/month-6/rutherford"]);
        found.Entry.Should().ContainSingle();
        var observation = (Observation)found.Entry[0].Resource;
        observation.Value.Should().BeOfType<Integer>().Which.Value.Should().Be(1);
        observation.Meta.VersionId.Should().Be("2");
        observation.Encounter.Reference.Should().StartWith("Encounter/");
        ((ResourceReference)observation.Extension[0].Value).Reference.Should().StartWith("ResearchStudy/");

        var patients = await client.SearchAsync<Patient>(["identifier=https://fhirtrialgateway.org/sid/epc-cli/subject-id|P003"]);
        patients.Entry.Should().ContainSingle("re-imports never duplicate a subject");

        // A new value in the export is created, nothing else moves.
        var added = new EpcCliExportGenerator(7);
        added.Overrides[("P003", "SE.M6", "IT.RUTH")] = "1";
        var fourth = await ImportOdm(added);
        fourth.Updated.Should().Be(0);
        fourth.Unchanged.Should().Be(total);
        fourth.Created.Should().BeGreaterThan(0, "subject P007 is new");
    }
}
