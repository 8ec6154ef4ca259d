using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FhirTrialGateway.Tests.Infrastructure;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>The admin role registers and removes clients over HTTP; a newly registered client can get a token at once.</summary>
public sealed class ClientAdminTests : GatewayTest
{
    private static readonly TestClientKey AdminKey = TestClientKey.Es384();
    private static readonly TestClientKey NewKey = TestClientKey.Rs384();

    protected override string[] Settings =>
    [
        "Auth:Enabled=true", "RateLimit:TokenPermitsPerMinute=10000",
        "Auth:Clients:0:Id=ops", "Auth:Clients:0:Role=admin",
        "Auth:Clients:0:Scopes:0=system/*.rs", $"Auth:Clients:0:Jwks={AdminKey.PublicJwks}",
        "Auth:Clients:1:Id=ehr", "Auth:Clients:1:Role=hospital", "Auth:Clients:1:Site=SITE-A",
        "Auth:Clients:1:Scopes:0=system/*.cruds", $"Auth:Clients:1:Jwks={AdminKey.PublicJwks}",
    ];

    private async Task<(int Status, JsonElement Body)> Token(string client, TestClientKey key, string scope) =>
        await TokenRequests.PostAsync(Http, TokenRequests.Form(
            new AssertionSpec { ClientId = client, Audience = new Uri(Gateway.BaseUri, "auth/token").ToString() }.Sign(key.SecurityKey, key.Algorithm), scope));

    private async Task<HttpResponseMessage> Send(string token, HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await Http.SendAsync(request);
    }

    [Fact]
    public async Task Admin_registers_lists_and_removes_a_client_and_others_may_not()
    {
        var admin = (await Token("ops", AdminKey, "system/*.rs")).Body.GetProperty("access_token").GetString()!;
        var hospital = (await Token("ehr", AdminKey, "system/*.rs")).Body.GetProperty("access_token").GetString()!;
        var registration = new { id = "site-c-ehr", role = "hospital", site = "SITE-C", scopes = new[] { "system/Observation.cruds" }, jwks = NewKey.PublicJwks };

        (await Send(hospital, HttpMethod.Post, "admin/clients", registration)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Http.GetAsync("admin/clients")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        (await Send(admin, HttpMethod.Post, "admin/clients", registration)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await Send(admin, HttpMethod.Post, "admin/clients", registration)).StatusCode.Should().Be(HttpStatusCode.Conflict);
        var sponsorWithWrites = new { id = "bad", role = "sponsor", scopes = new[] { "system/*.cruds" }, jwks = NewKey.PublicJwks };
        (await Send(admin, HttpMethod.Post, "admin/clients", sponsorWithWrites)).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var list = JsonDocument.Parse(await (await Send(admin, HttpMethod.Get, "admin/clients")).Content.ReadAsStringAsync()).RootElement;
        list.EnumerateArray().Select(c => c.GetProperty("id").GetString()).Should().Contain(["ops", "ehr", "site-c-ehr"]);

        (await Token("site-c-ehr", NewKey, "system/Observation.rs")).Status.Should().Be(200, "a client registered over HTTP can get a token at once");

        (await Send(admin, HttpMethod.Delete, "admin/clients/ehr")).StatusCode.Should().Be(HttpStatusCode.Conflict, "configuration clients stay in configuration");
        (await Send(admin, HttpMethod.Delete, "admin/clients/site-c-ehr")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Token("site-c-ehr", NewKey, "system/Observation.rs")).Status.Should().Be(401);
    }
}
