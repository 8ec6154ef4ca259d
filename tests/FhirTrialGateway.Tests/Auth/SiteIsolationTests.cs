using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>
/// Two hospitals on one gateway try to read, search, include, page through history and conditionally create each
/// other's data; a sponsor reads across sites. Another site's data answers as if it did not exist.
/// </summary>
public sealed class SiteIsolationTests : GatewayTest
{
    private static readonly TestClientKey Key = TestClientKey.Es384();

    protected override string[] Settings =>
    [
        "Auth:Enabled=true",
        "RateLimit:TokenPermitsPerMinute=10000", "RateLimit:ApiPermitsPerSecond=10000", "RateLimit:ApiBurst=10000",
        "Auth:Clients:0:Id=site-a", "Auth:Clients:0:Role=hospital", "Auth:Clients:0:Site=SITE-A",
        "Auth:Clients:0:Scopes:0=system/*.cruds", $"Auth:Clients:0:Jwks={Key.PublicJwks}",
        "Auth:Clients:1:Id=site-b", "Auth:Clients:1:Role=hospital", "Auth:Clients:1:Site=SITE-B",
        "Auth:Clients:1:Scopes:0=system/*.cruds", $"Auth:Clients:1:Jwks={Key.PublicJwks}",
        "Auth:Clients:2:Id=sponsor", "Auth:Clients:2:Role=sponsor",
        "Auth:Clients:2:Scopes:0=system/*.rs", $"Auth:Clients:2:Jwks={Key.PublicJwks}",
    ];

    private Task<string> TokenAsync(string client, string scope = "system/*.cruds") =>
        AuthorizedCalls.TokenAsync(Http, Gateway.BaseUri, Key, client, scope);

    private Task<HttpResponseMessage> Send(string token, HttpMethod method, string path, Resource? body = null, string? ifNoneExist = null) =>
        AuthorizedCalls.SendAsync(Http, token, method, path, body, ifNoneExist);

    [Fact]
    public async Task Hospitals_see_only_their_own_site_and_sponsors_see_all()
    {
        var a = await TokenAsync("site-a");
        var b = await TokenAsync("site-b");
        var sponsor = await TokenAsync("sponsor", "system/*.rs");

        var spoofed = TestData.Subject("A-1");
        spoofed.Meta = new Meta { Tag = [new Coding(Sites.TagSystem, "SITE-B")] };
        var patientA = await TestData.ReadAsync<Patient>(await Send(a, HttpMethod.Post, "fhir/Patient", spoofed));
        patientA.Meta.Tag.Should().ContainSingle(t => t.System == Sites.TagSystem).Which.Code.Should().Be("SITE-A", "the site comes from the token");
        var observation = TestData.WalkingDistance(patientA.Id!, 100, identifier: "A-OBS-1");
        var observationA = await TestData.ReadAsync<Observation>(await Send(a, HttpMethod.Post, "fhir/Observation", observation));

        // read, vread, history: another site's ids do not exist
        (await Send(b, HttpMethod.Get, $"fhir/Patient/{patientA.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Send(b, HttpMethod.Get, $"fhir/Patient/{patientA.Id}/_history/1")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Send(b, HttpMethod.Get, $"fhir/Patient/{patientA.Id}/_history")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await TestData.ReadAsync<Bundle>(await Send(b, HttpMethod.Get, "fhir/Patient/_history"))).Entry.Should().BeEmpty();
        (await Send(a, HttpMethod.Get, $"fhir/Patient/{patientA.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);

        // search and includes
        (await TestData.ReadAsync<Bundle>(await Send(b, HttpMethod.Get, "fhir/Patient?identifier=A-1"))).Total.Should().Be(0);
        (await TestData.ReadAsync<Bundle>(await Send(b, HttpMethod.Get, "fhir/Observation?_include=Observation:subject"))).Entry.Should().BeEmpty();
        (await TestData.ReadAsync<Bundle>(await Send(a, HttpMethod.Get, "fhir/Observation?_include=Observation:subject"))).Entry.Should().HaveCount(2);

        // writes to another site's ids: update is 404, delete changes nothing
        var stolen = TestData.Subject("A-1");
        stolen.Id = patientA.Id;
        (await Send(b, HttpMethod.Put, $"fhir/Patient/{patientA.Id}", stolen)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Send(b, HttpMethod.Delete, $"fhir/Observation/{observationA.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await Send(a, HttpMethod.Get, $"fhir/Observation/{observationA.Id}")).StatusCode.Should().Be(HttpStatusCode.OK, "B's delete touched nothing");

        // conditional create: A's match is invisible to B, so B gets its own resource (no 200 leaking A's)
        var conditional = await Send(b, HttpMethod.Post, "fhir/Patient", TestData.Subject("A-1"), "identifier=urn:trial:subject|A-1");
        conditional.StatusCode.Should().Be(HttpStatusCode.Created);
        (await TestData.ReadAsync<Patient>(conditional)).Id.Should().NotBe(patientA.Id);

        // conditional reference in a transaction resolves within the caller's site only
        var referencing = TestData.WalkingDistance("x", 5);
        referencing.Subject = new ResourceReference("Patient?identifier=urn:trial:subject|A-1");
        var transaction = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [new() { Resource = referencing, Request = new() { Method = Bundle.HTTPVerb.POST, Url = "Observation" } }],
        };
        var resolved = await TestData.ReadAsync<Bundle>(await Send(b, HttpMethod.Post, "fhir", transaction));
        var stored = await TestData.ReadAsync<Observation>(await Send(b, HttpMethod.Get, "fhir/" + resolved.Entry[0].Response.Location[(Gateway.FhirBase.Length + 1)..]));
        stored.Subject.Reference.Should().NotBe($"Patient/{patientA.Id}", "B's conditional reference must resolve to B's own patient");

        // the sponsor reads across sites
        (await TestData.ReadAsync<Bundle>(await Send(sponsor, HttpMethod.Get, "fhir/Patient?identifier=A-1"))).Total.Should().Be(2);
        (await Send(sponsor, HttpMethod.Get, $"fhir/Patient/{patientA.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
