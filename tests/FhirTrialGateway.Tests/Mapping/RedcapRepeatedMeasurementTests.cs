using System.Text.Json.Nodes;
using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>
/// REDCap repeating instruments that hold measurements (several ulcer areas, several walking tests in one visit),
/// mapped through the mapping's repeatedMeasurements: one Observation per instance and measure, keyed
/// subject/visit/instrument/instance/measure, so re-imports update exactly the instance that changed.
/// </summary>
public class RedcapRepeatedMeasurementTests
{
    private const string Header =
        "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,IT.VISDAT,IT.RUTH,IT.WMDAT,IT.ULCAREA,IT.PWD,IT.ICD,wound_measurement_complete\n";

    private const string Rows =
        "R1,SE.BASELINE,,,2024-05-06,4,,,,,\n" +
        "R1,SE.BASELINE,wound_measurement,1,,,2024-05-06,5.2,,,2\n" +
        "R1,SE.BASELINE,wound_measurement,2,,,2024-05-08,4.9,,,2\n" +
        "R1,SE.BASELINE,walk_test,1,,,,,40,90,\n" +
        "R1,SE.BASELINE,walk_test,2,,,,,45,95,\n" +
        "R1,SE.M1,,,2024-06-05,3,,,,,\n" +
        "R1,SE.M1,wound_measurement,1,,,,3.1,,,2\n" +
        "R2,SE.BASELINE,,,2024-05-10,5,,,,,\n" +
        "R2,SE.BASELINE,wound_measurement,1,,,2024-05-10,7.0,,,2\n";

    private const string Observations = "https://fhirtrialgateway.org/sid/epc-cli-repeats/observation";

    private static string Mapping => Sample("redcap-repeated-measurements.mapping.json");

    /// <summary>The export's dictionary and data file (with <paramref name="rows"/>) in a fresh folder.</summary>
    private static (string Dictionary, string Data) Export(string rows)
    {
        var dictionary = TempFile("dictionary.csv");
        File.WriteAllText(dictionary,
            "\"Variable / Field Name\",\"Form Name\",\"Field Type\",\"Text Validation Type OR Show Slider Number\",Identifier?\n" +
            "record_id,visit,text,,\nIT.VISDAT,visit,text,date_ymd,\nIT.RUTH,visit,text,integer,\nIT.WMDAT,wound_measurement,text,date_ymd,\n" +
            "IT.ULCAREA,wound_measurement,text,number,\nIT.PWD,walk_test,text,integer,\nIT.ICD,walk_test,text,integer,\n");
        var data = Path.Combine(Path.GetDirectoryName(dictionary)!, "data.csv");
        File.WriteAllText(data, Header + rows);
        return (dictionary, data);
    }

    private static Task<ImportSummary> Import(string rows, IBundleSink sink, string? mapping = null)
    {
        var (dictionary, data) = Export(rows);
        return Importer.RedcapAsync(dictionary, [data], TrialMapping.Load(mapping ?? Mapping), "NCT06359912", Checker, sink, false, null, CancellationToken.None);
    }

    private static string Key(Observation observation) => observation.Identifier.Single(i => i.System == Observations).Value!;

    [Fact]
    public async Task Each_instance_of_a_repeating_measurement_instrument_becomes_its_own_observation_in_its_visit()
    {
        var sink = new CollectingSink();
        var summary = await Import(Rows, sink);

        summary.Issues.Where(i => i.IsError).Should().BeEmpty();
        var observations = sink.All<Observation>().ToDictionary(Key);
        observations.Keys.Should().BeEquivalentTo([
            "R1/baseline/rutherford", "R1/month-1/rutherford", "R2/baseline/rutherford",
            "R1/baseline/wound_measurement/1/ulcer-area", "R1/baseline/wound_measurement/2/ulcer-area", "R1/month-1/wound_measurement/1/ulcer-area",
            "R1/baseline/walk_test/1/walking-distance", "R1/baseline/walk_test/2/walking-distance", "R2/baseline/wound_measurement/1/ulcer-area",
        ]);

        var second = observations["R1/baseline/wound_measurement/2/ulcer-area"];
        ((Quantity)second.Value).Value.Should().Be(4.9m);
        second.Effective.Should().BeOfType<FhirDateTime>().Which.Value.Should().Be("2024-05-08", "the instance's own date item");
        ((FhirDateTime)observations["R1/month-1/wound_measurement/1/ulcer-area"].Effective).Value.Should().Be("2024-06-05", "without its own date, the visit's");
        observations["R1/baseline/walk_test/2/walking-distance"].Component.Select(c => ((Quantity)c.Value).Value).Should().Equal(45m, 95m);

        // Every measurement of a visit refers to that visit's one Encounter.
        var r1 = sink.Bundles["R1"];
        var baseline = r1.Entry.Single(e => e.Resource is Encounter encounter && encounter.Type[0].Coding[0].Code == "baseline").FullUrl;
        r1.Entry.Select(e => e.Resource).OfType<Observation>().Where(o => Key(o).StartsWith("R1/baseline/", StringComparison.Ordinal))
            .Should().HaveCount(5).And.OnlyContain(o => o.Encounter.Reference == baseline);
        r1.Entry.Select(e => e.Resource).OfType<Encounter>().Should().HaveCount(2);
    }

    [Fact]
    public async Task Without_the_mapping_entry_the_instances_collide_and_the_import_says_so()
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Mapping), documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        json.AsObject().Remove("repeatedMeasurements");
        json["ignore"] = new JsonArray("IT.WMDAT");
        var mapping = TempFile("no-repeats.mapping.json");
        await File.WriteAllTextAsync(mapping, json.ToJsonString());
        var sink = new CollectingSink();

        var summary = await Import(Rows, sink, mapping);

        sink.Bundles.Should().BeEmpty();
        summary.Issues.Should().Contain(i => i.IsError && i.Subject == "R1" && i.Item == "IT.ULCAREA" && i.Message.Contains("two values in one visit"));
    }

    [Fact]
    public async Task A_repeated_measurement_outside_any_visit_is_an_error_naming_the_instance()
    {
        var summary = await Import("R3,SE.AELOG,wound_measurement,1,,,2024-05-06,5.2,,,2\n", new CollectingSink());

        summary.Issues.Should().ContainSingle(i => i.IsError).Which.Message.Should().Contain("wound_measurement repeat 1").And.Contain("SE.AELOG");
    }

    [Fact]
    public async Task Reimporting_changes_exactly_the_instance_that_changed_and_a_new_instance_is_created()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var sink = new ServerSink(new Uri(gateway.FhirBase));
        (await Importer.CtgovAsync([EpcRecord], Checker, sink, false, null, CancellationToken.None)).HasErrors.Should().BeFalse();

        var first = await Import(Rows, sink);
        first.Issues.Where(i => i.IsError).Should().BeEmpty();
        (first.Updated, first.Unchanged).Should().Be((0, 0));
        var total = first.Created;

        var again = await Import(Rows, sink);
        (again.Created, again.Updated, again.Unchanged).Should().Be((0, 0, total));

        var changed = Rows.Replace("wound_measurement,2,,,2024-05-08,4.9", "wound_measurement,2,,,2024-05-08,4.4", StringComparison.Ordinal);
        var third = await Import(changed, sink);
        (third.Created, third.Updated, third.Unchanged).Should().Be((0, 1, total - 1));

        var added = changed + "R2,SE.BASELINE,wound_measurement,2,,,2024-05-12,6.1,,,2\n";
        var fourth = await Import(added, sink);
        (fourth.Created, fourth.Updated, fourth.Unchanged).Should().Be((1, 0, total));

        var client = gateway.FhirClient();
        var found = await client.SearchAsync<Observation>([$"identifier={Observations}|R1/baseline/wound_measurement/2/ulcer-area"]);
        var observation = (Observation)found.Entry.Single().Resource;
        ((Quantity)observation.Value).Value.Should().Be(4.4m);
        observation.Meta.VersionId.Should().Be("2");
        var all = await client.SearchAsync<Observation>(["code=http://loinc.org|89260-4", "_count=100"]);
        all.Entry.Should().HaveCount(5, "four ulcer-area instances of the first export and the one added; none twice");
    }
}
