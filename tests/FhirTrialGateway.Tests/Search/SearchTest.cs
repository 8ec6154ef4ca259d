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

    /// <summary>The ids of the included resources (search mode include), in bundle order.</summary>
    protected static IEnumerable<string?> IncludedIds(Bundle bundle) =>
        bundle.Entry.Where(e => e.Search.Mode == Bundle.SearchEntryMode.Include).Select(e => e.Resource.Id);

    /// <summary>The match ids of every page, following the "next" links from the first; <paramref name="betweenPages"/> runs after each page.</summary>
    protected async Task<List<string>> IdsOfAllPagesAsync(string query, Func<int, Task>? betweenPages = null)
    {
        var seen = new List<string>();
        var bundle = await SearchAsync(query);
        var pageNumber = 0;
        while (true)
        {
            seen.AddRange(bundle.Entry.Where(e => e.Search.Mode == Bundle.SearchEntryMode.Match).Select(e => e.Resource.Id));
            if (betweenPages is not null)
            {
                await betweenPages(pageNumber++);
            }

            var next = bundle.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
            if (next is null)
            {
                return seen;
            }

            bundle = await SearchAsync(next[(Gateway.FhirBase.Length + 1)..]);
        }
    }

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
