using System.Net;
using System.Text.Json;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Tests.Infrastructure;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>`fhirgw clients add|list|remove|token`, run in process against temporary folders and a real gateway.</summary>
public sealed class ClientsCommandTests : GatewayTest, IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "fhirgw-tests", "clients-" + Guid.NewGuid().ToString("N"));

    protected override string[] Settings => ["Auth:Enabled=true", "RateLimit:TokenPermitsPerMinute=10000"];

    public ClientsCommandTests() => Directory.CreateDirectory(_work);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // left for the temp cleaner
        }
    }

    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ClientsCommand.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Add_list_and_remove_manage_the_registry_file()
    {
        var key = Path.Combine(_work, "site-a.key.json");
        var (exit, output, error) = await Run("add", "--id", "site-a-ehr", "--role", "hospital", "--site", "SITE-A",
            "--scope", "system/Observation.cruds system/Patient.rs", "--private-key", key, "--data-dir", _work);
        exit.Should().Be(0, error);
        output.Should().Contain("Registered client 'site-a-ehr'").And.Contain(key);

        // The private key file: a private JWK (ES384 by default) for the site, owner-only; the registry holds the public key only.
        var jwk = JsonDocument.Parse(await File.ReadAllTextAsync(key)).RootElement;
        jwk.GetProperty("alg").GetString().Should().Be("ES384");
        jwk.GetProperty("crv").GetString().Should().Be("P-384");
        jwk.TryGetProperty("d", out _).Should().BeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(key).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var registryText = await File.ReadAllTextAsync(Path.Combine(_work, "clients.json"));
        registryText.Should().Contain(jwk.GetProperty("kid").GetString()).And.NotContain(jwk.GetProperty("d").GetString());
        var registered = ClientRegistryFile.Load(Path.Combine(_work, "clients.json")).Single();
        registered.Validate();
        registered.Site.Should().Be("SITE-A");

        (exit, _, error) = await Run("add", "--id", "sponsor-x", "--role", "sponsor", "--scope", "system/*.rs", "--key-alg", "RS384",
            "--private-key", Path.Combine(_work, "sponsor.key.json"), "--data-dir", _work);
        exit.Should().Be(0, error);
        JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_work, "sponsor.key.json"))).RootElement.GetProperty("kty").GetString().Should().Be("RSA");

        (exit, output, _) = await Run("list", "--data-dir", _work);
        exit.Should().Be(0);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().StartWith("ID").And.Contain("ROLE").And.Contain("SITE").And.Contain("SCOPES").And.Contain("KEYS");
        lines.Should().Contain(l => l.StartsWith("site-a-ehr", StringComparison.Ordinal) && l.Contains("hospital", StringComparison.Ordinal)
            && l.Contains("SITE-A", StringComparison.Ordinal) && l.Contains("system/Observation.cruds", StringComparison.Ordinal)
            && l.Contains(jwk.GetProperty("kid").GetString()!, StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("sponsor-x", StringComparison.Ordinal) && l.Contains("RS384", StringComparison.Ordinal));

        (exit, output, _) = await Run("list", "--json", "--data-dir", _work);
        exit.Should().Be(0);
        JsonDocument.Parse(output).RootElement.GetArrayLength().Should().Be(2);

        (exit, _, error) = await Run("add", "--id", "site-a-ehr", "--role", "hospital", "--site", "SITE-A", "--scope", "system/*.rs",
            "--private-key", Path.Combine(_work, "again.json"), "--data-dir", _work);
        exit.Should().Be(1);
        error.Should().Contain("already registered");

        (exit, output, _) = await Run("remove", "--id", "site-a-ehr", "--data-dir", _work);
        exit.Should().Be(0);
        output.Should().Contain("Removed");
        ClientRegistryFile.Load(Path.Combine(_work, "clients.json")).Select(c => c.Id).Should().Equal("sponsor-x");

        (exit, _, error) = await Run("remove", "--id", "site-a-ehr", "--data-dir", _work);
        exit.Should().Be(1);
        error.Should().Contain("No client");
    }

    [Fact]
    public async Task Add_refuses_a_sponsor_with_write_scopes_and_writes_nothing()
    {
        var key = Path.Combine(_work, "bad.key.json");
        var (exit, _, error) = await Run("add", "--id", "sponsor-w", "--role", "sponsor", "--scope", "system/Observation.cruds",
            "--private-key", key, "--data-dir", _work);
        exit.Should().Be(1);
        error.Should().Contain("sponsor may only hold read and search");
        File.Exists(key).Should().BeFalse();
        File.Exists(Path.Combine(_work, "clients.json")).Should().BeFalse();

        (exit, _, error) = await Run("add", "--id", "h", "--role", "hospital", "--scope", "system/Observation.rs", "--private-key", key, "--data-dir", _work);
        exit.Should().Be(1);
        error.Should().Contain("site");
    }

    [Fact]
    public async Task Add_accepts_a_public_jwks_file_and_refuses_a_private_one()
    {
        var site = TestClientKey.Rs384();
        var jwksFile = Path.Combine(_work, "public.jwks.json");
        await File.WriteAllTextAsync(jwksFile, site.PublicJwks);
        var (exit, _, error) = await Run("add", "--id", "site-b", "--role", "hospital", "--site", "SITE-B", "--scope", "system/*.read",
            "--jwks", jwksFile, "--data-dir", _work);
        exit.Should().Be(0, error);
        var (_, output, _) = await Run("list", "--data-dir", _work);
        output.Should().Contain(site.Kid);

        await Run("add", "--id", "site-c", "--role", "hospital", "--site", "SITE-C", "--scope", "system/*.rs",
            "--private-key", Path.Combine(_work, "c.key.json"), "--data-dir", _work);
        var privateJwks = "{\"keys\":[" + await File.ReadAllTextAsync(Path.Combine(_work, "c.key.json")) + "]}";
        await File.WriteAllTextAsync(jwksFile, privateJwks);
        (exit, _, error) = await Run("add", "--id", "site-d", "--role", "hospital", "--site", "SITE-D", "--scope", "system/*.rs",
            "--jwks", jwksFile, "--data-dir", _work);
        exit.Should().Be(1);
        error.Should().Contain("private");
    }

    [Fact]
    public async Task Token_gets_a_token_from_the_running_gateway_for_a_client_added_while_it_runs()
    {
        var key = Path.Combine(_work, "site-a.key.json");
        // The gateway's data folder: the running gateway re-reads clients.json, no restart needed.
        var (exit, _, error) = await Run("add", "--id", "site-a-ehr", "--role", "hospital", "--site", "SITE-A",
            "--scope", "system/Patient.cruds", "--private-key", key, "--data-dir", Gateway.Directory);
        exit.Should().Be(0, error);

        var tokenUrl = new Uri(Gateway.BaseUri, "auth/token").ToString();
        (exit, var output, error) = await Run("token", "--client-id", "site-a-ehr", "--key", key, "--url", tokenUrl, "--scope", "system/Patient.rs");
        exit.Should().Be(0, error);
        var response = JsonDocument.Parse(output).RootElement;
        response.GetProperty("scope").GetString().Should().Be("system/Patient.rs");
        var token = response.GetProperty("access_token").GetString()!;
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", token))).StatusCode.Should().Be(HttpStatusCode.OK);

        (exit, output, _) = await Run("token", "--client-id", "site-a-ehr", "--key", key, "--url", tokenUrl, "--scope", "x", "--assertion-only");
        exit.Should().Be(0);
        output.Trim().Split('.').Should().HaveCount(3);

        (exit, _, error) = await Run("token", "--client-id", "site-a-ehr", "--key", key, "--url", tokenUrl, "--scope", "system/Observation.rs");
        exit.Should().Be(1);
        error.Should().Contain("400").And.Contain("invalid_scope");

        await Run("remove", "--id", "site-a-ehr", "--data-dir", Gateway.Directory);
        (exit, _, error) = await Run("token", "--client-id", "site-a-ehr", "--key", key, "--url", tokenUrl, "--scope", "system/Patient.rs");
        exit.Should().Be(1);
        error.Should().Contain("401").And.Contain("invalid_client");
    }
}
