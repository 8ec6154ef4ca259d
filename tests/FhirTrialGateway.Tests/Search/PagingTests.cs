using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Paging while data arrives: every resource that existed when the search began is seen exactly once.</summary>
public sealed class PagingTests : SearchTest
{
    private static Observation Obs(string code, int n) => new()
    {
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", code),
        Identifier = [new Identifier("urn:paging", n.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        Effective = new FhirDateTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(n)),
    };

    [Fact]
    public async Task Pages_neither_repeat_nor_skip_while_resources_are_created_updated_and_deleted()
    {
        var existing = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            existing.Add(await CreateAsync(Obs("1234-5", i)));
        }

        var writes = 100;
        var seen = await IdsOfAllPagesAsync("Observation?code=1234-5&_count=4", async page =>
        {
            // New matches arrive (some would sort before the cursor), and a resource already seen is updated.
            await CreateAsync(Obs("1234-5", writes++));
            await CreateAsync(Obs("1234-5", -writes));
            var touched = Obs("1234-5", page);
            touched.Id = existing[page];
            touched.Status = ObservationStatus.Amended;
            await CreateAsync(touched);
        });

        seen.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(existing, "exactly the resources that existed when the search began");
    }

    [Fact]
    public async Task Sorted_pages_stay_stable_and_previous_links_go_back()
    {
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await CreateAsync(Obs("9999-9", i)));
        }

        var seen = await IdsOfAllPagesAsync("Observation?_sort=-date&_count=3", async _ => await CreateAsync(Obs("9999-9", 1000)));
        seen.Should().Equal(Enumerable.Reverse(ids), "newest effective date first, and later creations are not paged in");

        var first = await SearchAsync("Observation?_sort=-date&_count=3");
        first.Link.Should().NotContain(l => l.Relation == "previous");
        var second = await SearchAsync(first.Link.Single(l => l.Relation == "next").Url[(Gateway.FhirBase.Length + 1)..]);
        var back = await SearchAsync(second.Link.Single(l => l.Relation == "previous").Url[(Gateway.FhirBase.Length + 1)..]);
        back.Entry.Select(e => e.Resource.Id).Should().Equal(first.Entry.Select(e => e.Resource.Id));
        back.Link.Should().NotContain(l => l.Relation == "previous");
        second.Link.Single(l => l.Relation == "self").Url.Should().Contain("_cursor=");
    }

    [Fact]
    public async Task Unsorted_pages_go_back_with_previous_links()
    {
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await CreateAsync(Obs("7777-7", i)));
        }

        var first = await SearchAsync("Observation?code=7777-7&_count=3");
        first.Entry.Select(e => e.Resource.Id).Should().Equal(ids.Take(3));
        first.Total.Should().Be(7);
        var second = await SearchAsync(first.Link.Single(l => l.Relation == "next").Url[(Gateway.FhirBase.Length + 1)..]);
        second.Entry.Select(e => e.Resource.Id).Should().Equal(ids.Skip(3).Take(3));
        var back = await SearchAsync(second.Link.Single(l => l.Relation == "previous").Url[(Gateway.FhirBase.Length + 1)..]);
        back.Entry.Select(e => e.Resource.Id).Should().Equal(ids.Take(3));
        back.Link.Single(l => l.Relation == "next").Url.Should().NotBeNull();
    }
}
