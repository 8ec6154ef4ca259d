using System.Net;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Base of the search suites: creates resources over HTTP and answers searches as ids, through the real server.</summary>
public abstract class SearchTest : GatewayTest
{
    /// <summary>Creates <paramref name="resource"/> with POST (or PUT when it carries an id) and answers its id.</summary>
    protected async Task<string> CreateAsync(Resource resource)
    {
        var response = resource.Id is { Length: > 0 } id
            ? await Http.PutAsync($"fhir/{resource.TypeName}/{id}", TestGateway.Json(TestData.ToJson(resource)))
            : await Http.PostAsync($"fhir/{resource.TypeName}", TestGateway.Json(TestData.ToJson(resource)));
        response.StatusCode.Should().BeOneOf(HttpStatusCode.Created, HttpStatusCode.OK);
        return (await TestData.ReadAsync<Resource>(response)).Id!;
    }

    protected async Task<Bundle> SearchAsync(string query, string? prefer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fhir/" + query);
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        var response = await Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await TestData.ReadAsync<Bundle>(response);
    }

    /// <summary>The ids of the matches (search mode match), in bundle order.</summary>
    protected async Task<List<string>> IdsAsync(string query) =>
        (await SearchAsync(query)).Entry.Where(e => e.Search?.Mode == Bundle.SearchEntryMode.Match).Select(e => e.Resource.Id!).ToList();

    protected async Task<HttpStatusCode> StatusAsync(string query, string? prefer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fhir/" + query);
        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        return (await Http.SendAsync(request)).StatusCode;
    }
}
