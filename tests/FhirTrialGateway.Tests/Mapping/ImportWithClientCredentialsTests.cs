using FhirTrialGateway.Auth;
using FhirTrialGateway.Mapping;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Mapping.Smart;
using FhirTrialGateway.Tests.Auth;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using static FhirTrialGateway.Tests.Mapping.MappingTestSupport;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>
/// `fhirgw import --server --client-id --client-key` against a gateway with authentication on: the import discovers
/// the token endpoint, signs its own assertion with the key file `fhirgw clients add` wrote, and renews its token.
/// </summary>
public sealed class ImportWithClientCredentialsTests : GatewayTest
{
    protected override string[] Settings => ["Auth:Enabled=true", "RateLimit:TokenPermitsPerMinute=10000", "RateLimit:ApiPermitsPerSecond=10000", "RateLimit:ApiBurst=10000"];

    /// <summary>Registers a client in the running gateway's data folder, as an administrator would; returns its key file.</summary>
    private async Task<string> Register(string id, string role = "admin", string scope = "system/*.cruds")
    {
        var key = TempFile($"{id}.private-key.json");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ClientsCommand.InvokeAsync(["add", "--id", id, "--role", role, "--scope", scope, "--private-key", key, "--data-dir", Gateway.Directory],
            output, error);
        exit.Should().Be(0, error.ToString());
        return key;
    }

    private static async Task<(int Exit, string Error)> Import(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ImportCommand.InvokeAsync(args, output, error);
        return (exit, error.ToString());
    }

    [Fact]
    public async Task The_import_gets_its_own_token_as_a_registered_client_and_the_data_lands()
    {
        var key = await Register("edc-import");
        var fhir = new Uri(Gateway.FhirBase);
        await using (var sink = new ServerSink(fhir, new BackendServicesTokenSource(fhir, "edc-import", key, "system/*.crus")))
        {
            (await Importer.CtgovAsync([EpcRecord], Checker, sink, false, null, CancellationToken.None)).Issues.Where(i => i.IsError).Should().BeEmpty();
        }

        var export = TempFile("epc-cli.odm.xml");
        new EpcCliExportGenerator(3).Write(export);
        var (exit, error) = await Import("odm", export, "--mapping", EpcMapping, "--server", Gateway.FhirBase, "--client-id", "edc-import", "--client-key", key);

        exit.Should().Be(0, error);
        error.Should().Contain("subjects 3, sent 3, rejected 0");
        using var reader = new BackendServicesTokenSource(fhir, "edc-import", key, "system/*.rs");
        var token = await reader.GetAsync(null, CancellationToken.None);
        var patients = await TestData.ReadAsync<Bundle>(await Http.SendAsync(TokenRequests.Get("fhir/Patient?identifier=https://fhirtrialgateway.org/sid/epc-cli/subject-id|P002", token)));
        patients.Entry.Should().ContainSingle();
        var observations = await TestData.ReadAsync<Bundle>(await Http.SendAsync(TokenRequests.Get("fhir/Observation?_summary=count", token)));
        observations.Total.Should().BeGreaterThan(3 * 10);
    }

    [Fact]
    public async Task Without_a_registration_or_with_half_the_options_the_import_stops_before_reading_anything()
    {
        var stranger = TempFile("stranger.private-key.json");
        using (var output = new StringWriter())
        {
            // A key pair the gateway does not know: written by `clients add` into another folder.
            await ClientsCommand.InvokeAsync(["add", "--id", "stranger", "--role", "admin", "--scope", "system/*.rs", "--private-key", stranger,
                "--data-dir", Path.GetDirectoryName(stranger)!], output, output);
        }

        var (exit, error) = await Import("ctgov", EpcRecord, "--server", Gateway.FhirBase, "--client-id", "stranger", "--client-key", stranger);
        exit.Should().Be(1);
        error.Should().Contain("no access token").And.Contain("401").And.Contain("invalid_client");

        (exit, error) = await Import("ctgov", EpcRecord, "--server", Gateway.FhirBase, "--client-id", "stranger");
        exit.Should().Be(2);
        error.Should().Contain("--client-id and --client-key go together");

        (exit, error) = await Import("ctgov", EpcRecord, "--server", Gateway.FhirBase, "--client-id", "stranger", "--client-key", stranger, "--token", "abc");
        exit.Should().Be(2);
        error.Should().Contain("exclude each other");
    }

    [Fact]
    public async Task The_token_is_reused_until_it_is_due_and_renewed_when_due_or_refused()
    {
        var key = await Register("renewing", scope: "system/Patient.rs");
        var clock = new SettableClock(DateTimeOffset.UtcNow);
        using var tokens = new BackendServicesTokenSource(new Uri(Gateway.FhirBase), "renewing", key, "system/Patient.rs", clock);

        var first = await tokens.GetAsync(null, CancellationToken.None);
        (await tokens.GetAsync(null, CancellationToken.None)).Should().Be(first);
        tokens.Requested.Should().Be(1);

        clock.Now += TimeSpan.FromMinutes(5); // the gateway's tokens live 5 minutes
        var renewed = await tokens.GetAsync(null, CancellationToken.None);
        tokens.Requested.Should().Be(2);
        renewed.Should().NotBe(first);
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", renewed))).IsSuccessStatusCode.Should().BeTrue();

        (await tokens.GetAsync(renewed, CancellationToken.None)).Should().NotBe(renewed, "a token the server refused is replaced at once");
        tokens.Requested.Should().Be(3);
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
