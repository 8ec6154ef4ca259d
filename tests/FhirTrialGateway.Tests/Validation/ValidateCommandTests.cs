using System.Text.Json;
using FhirTrialGateway.Validation;

namespace FhirTrialGateway.Tests.Validation;

/// <summary><c>fhirgw validate</c>: exit codes 0/1/2, text and JSON output, stdin, folders, XML.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fhirgw-validate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Err) InvokeWithStdin(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new StringReader(stdin);
        var exit = ValidateCommand.Invoke(args, input, output, error, null, SharedValidators.Default);
        return (exit, output.ToString(), error.ToString());
    }

    private static (int Exit, string Out, string Err) Invoke(params string[] args) => InvokeWithStdin("", args);

    [Fact]
    public void A_valid_file_exits_0_with_an_OK_summary()
    {
        var (exit, output, _) = Invoke(SharedValidators.Example("valid/Patient-epc-p001.json"));

        exit.Should().Be(0);
        output.Should().Contain("Patient/epc-p001  OK  0 errors").And.Contain("1 file checked: 0 with errors");
    }

    [Fact]
    public void An_invalid_file_exits_1_naming_file_resource_severity_location_and_message()
    {
        var file = SharedValidators.Example("invalid/Observation-ulcer-area-unit-mm2.json");

        var (exit, output, _) = Invoke(file);

        exit.Should().Be(1);
        output.Should().MatchRegex(@"Observation-ulcer-area-unit-mm2\.json  Observation/\S+  error\s+Observation\.value\.code  Value 'mm2' is not exactly equal to fixed value 'cm2'");
        output.Should().Contain("FAILED  1 error");
    }

    [Fact]
    public void A_folder_is_searched_and_every_file_reported()
    {
        var (exit, output, _) = Invoke(SharedValidators.Example("invalid"));

        exit.Should().Be(1);
        var count = Directory.GetFiles(SharedValidators.Example("invalid"), "*.json").Length;
        output.Should().Contain($"{count} files checked: {count} with errors");
    }

    [Fact]
    public void Stdin_is_read_for_a_dash_and_xml_is_detected_from_the_first_character()
    {
        const string xml = """
            <Patient xmlns="http://hl7.org/fhir"><id value="x1"/><gender value="female"/></Patient>
            """;

        var (exit, output, _) = InvokeWithStdin(xml, "-");

        exit.Should().Be(0);
        output.Should().Contain("<stdin>  Patient/x1  OK");
    }

    [Fact]
    public void Xml_files_are_read_by_extension()
    {
        var file = Path.Combine(_dir, "patient.xml");
        File.WriteAllText(file, """<Patient xmlns="http://hl7.org/fhir"><id value="x2"/><birthDate value="1970-02-03"/></Patient>""");

        var (exit, output, _) = Invoke(file, "--profile", SharedValidators.Base + "trial-patient");

        exit.Should().Be(1, "trial-patient allows the birth year only");
        output.Should().Contain("Patient/x2  error").And.Contain("tpat-1");
    }

    [Fact]
    public void A_file_that_does_not_parse_is_an_error_of_that_file()
    {
        var file = Path.Combine(_dir, "broken.json");
        File.WriteAllText(file, """{"resourceType": "Patient", "gender": 12""");

        var (exit, output, _) = Invoke(file);

        exit.Should().Be(1);
        output.Should().Contain("broken.json  (unreadable)  error").And.Contain("Malformed JSON");
    }

    [Fact]
    public void Json_format_writes_the_OperationOutcome_and_an_explicit_profile_is_checked()
    {
        var file = Path.Combine(_dir, "p.json");
        File.WriteAllText(file, """{"resourceType": "Patient", "id": "p1", "birthDate": "1970-02-03"}""");

        var (exit, output, _) = Invoke(file, "--format", "json", "--profile", SharedValidators.Base + "trial-patient");

        exit.Should().Be(1);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("resourceType").GetString().Should().Be("OperationOutcome");
        json.RootElement.GetProperty("issue").EnumerateArray()
            .Should().Contain(i => i.GetProperty("severity").GetString() == "error" &&
                                   i.GetProperty("details").GetProperty("text").GetString()!.Contains("tpat-1") &&
                                   i.GetProperty("expression")[0].GetString() == "Patient");
    }

    [Fact]
    public void Json_format_with_several_files_writes_a_bundle_of_outcomes()
    {
        var (exit, output, _) = Invoke(SharedValidators.Example("valid/Patient-epc-p001.json"),
            SharedValidators.Example("valid/Encounter-visit-baseline.json"), "--format", "json");

        exit.Should().Be(0);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("resourceType").GetString().Should().Be("Bundle");
        json.RootElement.GetProperty("entry").GetArrayLength().Should().Be(2);
        json.RootElement.GetProperty("entry")[0].GetProperty("fullUrl").GetString().Should().StartWith("file:///").And.EndWith("Patient-epc-p001.json");
    }

    [Fact]
    public void An_issue_inside_a_bundle_is_labelled_with_the_entry_resource()
    {
        var (exit, output, _) = Invoke(SharedValidators.Example("invalid/Bundle-subject-arm-not-in-study.json"));

        exit.Should().Be(1);
        output.Should().MatchRegex(@"ResearchSubject/\S+  error\s+Bundle\.entry\[\d+\]\.resource  .*rsub-arm-1");
    }

    [Theory]
    [InlineData("does-not-exist.json")]
    [InlineData("--format", "yaml", "x.json")]
    [InlineData("--ig", "no-such-package.tgz", "-")]
    [InlineData("--no-such-option", "-")]
    public void Bad_usage_exits_2_with_a_message(params string[] args)
    {
        var (exit, output, error) = Invoke(args);

        exit.Should().Be(2);
        output.Should().BeEmpty();
        error.Should().StartWith("fhirgw validate: ");
    }

    [Fact]
    public void No_input_at_all_is_bad_usage()
    {
        Invoke().Exit.Should().Be(2);
    }

    [Fact]
    public void An_ig_package_tgz_is_loaded()
    {
        // A package with one profile: Patient.gender mandatory.
        var tgz = Path.Combine(_dir, "example.pkg.tgz");
        PackageBuilder.WriteTgz(tgz, ("package/package.json", """{"name":"example.pkg","version":"1.0.0"}"""),
            ("package/StructureDefinition-gendered.json", """
            {"resourceType":"StructureDefinition","id":"gendered","url":"http://example.org/StructureDefinition/gendered",
             "name":"Gendered","status":"active","kind":"resource","abstract":false,"type":"Patient",
             "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
             "differential":{"element":[{"id":"Patient.gender","path":"Patient.gender","min":1}]}}
            """));
        var file = Path.Combine(_dir, "p.json");
        File.WriteAllText(file, """{"resourceType": "Patient", "id": "p1"}""");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = ValidateCommand.Run(
            new ValidateArguments([file], ["http://example.org/StructureDefinition/gendered"], [tgz]),
            TextReader.Null, output, error, new ValidationOptions { ProfilesPath = SharedValidators.ProfilesPath });

        error.ToString().Should().BeEmpty();
        exit.Should().Be(1);
        output.ToString().Should().Contain("gender");
    }
}
