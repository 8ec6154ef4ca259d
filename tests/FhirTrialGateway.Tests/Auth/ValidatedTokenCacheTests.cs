using System.Net;
using System.Net.Http.Headers;
using FhirTrialGateway.Tests.Infrastructure;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>
/// A validated access token is remembered so that later requests skip the signature check; it must still be accepted
/// only where it would validate. Without Auth:Audience the audience is the FHIR base of the request, so a request
/// naming another host expects another audience and must not be let in by the remembered token.
/// </summary>
public sealed class ValidatedTokenCacheTests : GatewayTest
{
    private static readonly TestClientKey Key = TestClientKey.Es384();

    protected override string[] Settings =>
        AuthSettings.SecuredWith(AuthSettings.Client(0, "ehr", "hospital", "SITE-A", "system/*.cruds", Key));

    [Fact]
    public async Task A_remembered_token_is_accepted_again_only_for_the_audience_it_was_validated_for()
    {
        var token = await AuthorizedCalls.TokenAsync(Http, Gateway.BaseUri, Key, "ehr", "system/Observation.cruds");

        (await Search(token, host: null)).Should().Be(HttpStatusCode.OK, "the token is validated and remembered");
        (await Search(token, host: null)).Should().Be(HttpStatusCode.OK, "the remembered token is accepted again");
        (await Search(token, host: "other.example")).Should().Be(HttpStatusCode.Unauthorized,
            "for another host the expected audience is another FHIR base");
        (await Search(token, host: null)).Should().Be(HttpStatusCode.OK, "the refusal elsewhere does not forget the token here");
        (await Search(token[..^2] + (token[^2] == 'A' ? "BA" : "AA"), host: null)).Should().Be(HttpStatusCode.Unauthorized,
            "a token differing in its signature is not the remembered one");
    }

    private async Task<HttpStatusCode> Search(string token, string? host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fhir/Observation?_summary=count");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }
}
