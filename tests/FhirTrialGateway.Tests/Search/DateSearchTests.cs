using System.Net;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Search;

/// <summary>Date search (R4 3.1.1.4.2 and 3.1.1.4.7): implicit precision ranges, prefixes, Periods, _lastUpdated.</summary>
public sealed class DateSearchTests : SearchTest
{
    private static Observation At(DataType effective, string tag) => new()
    {
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", "29463-7"),
        Effective = effective,
        Identifier = [new Identifier("urn:date-test", tag)],
    };

    private async Task<Dictionary<string, string>> SeedAsync()
    {
        var ids = new Dictionary<string, string>();
        foreach (var (tag, effective) in new (string, DataType)[]
                 {
                     ("day", new FhirDateTime("2013-01-14")),
                     ("morning", new FhirDateTime("2013-01-14T10:00:00Z")),
                     ("next-day", new FhirDateTime("2013-01-15T00:00:00Z")),
                     ("period", new Period(new FhirDateTime("2013-01-10"), new FhirDateTime("2013-01-20"))),
                     ("open-period", new Period { StartElement = new FhirDateTime("2013-01-10") }),
                     ("march", new FhirDateTime("2026-03-15T10:00:00Z")),
                     ("april", new FhirDateTime("2026-04-01T00:00:00Z")),
                     ("new-york-evening", new FhirDateTime("2026-03-01T23:30:00-05:00")),
                 })
        {
            ids[await CreateAsync(At(effective, tag))] = tag;
        }

        return ids;
    }

    private async Task<string[]> TagsAsync(Dictionary<string, string> ids, string query) =>
        (await IdsAsync($"Observation?{query}&_count=100")).Select(id => ids[id]).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Dates_match_by_their_implicit_ranges_with_every_prefix()
    {
        var ids = await SeedAsync();

        // The specification's examples: eq2013-01-14 contains 2013-01-14T10:00 but not 2013-01-15T00:00.
        (await TagsAsync(ids, "date=eq2013-01-14")).Should().Equal("day", "morning");
        (await TagsAsync(ids, "date=2013-01-14")).Should().Equal("day", "morning");
        (await TagsAsync(ids, "date=ne2013-01-14")).Should().Equal("april", "march", "new-york-evening", "next-day", "open-period", "period");
        // lt2013-01-14T10:00 includes 2013-01-14 (part of that day lies before 10:00) and the Periods that start before.
        (await TagsAsync(ids, "date=lt2013-01-14T10:00")).Should().Equal("day", "open-period", "period");
        (await TagsAsync(ids, "date=gt2013-01-14T10:00&date=lt2014")).Should().Equal("day", "next-day", "open-period", "period");
        (await TagsAsync(ids, "date=ge2013-01-15&date=le2013-12-31")).Should().Equal("next-day", "open-period", "period");
        (await TagsAsync(ids, "date=le2013-01-14")).Should().Equal("day", "morning", "open-period", "period");
        (await TagsAsync(ids, "date=sa2013-01-14&date=lt2014")).Should().Equal("next-day");
        (await TagsAsync(ids, "date=eb2013-01-15")).Should().Equal("day", "morning");
        (await TagsAsync(ids, "date=ap2013-01-14&date=lt2014")).Should().Contain(["day", "morning"]);
    }

    [Fact]
    public async Task Precision_covers_the_whole_year_month_or_day_and_periods_overlap()
    {
        var ids = await SeedAsync();
        (await TagsAsync(ids, "date=2026-03")).Should().Equal("march", "new-york-evening");
        (await TagsAsync(ids, "date=2026")).Should().Equal("april", "march", "new-york-evening");
        (await TagsAsync(ids, "date=2026-03-02")).Should().Equal(["new-york-evening"], "23:30 at -05:00 is 04:30 UTC the next day");
        (await TagsAsync(ids, "date=eq2013-01-12")).Should().BeEmpty("a Period longer than the day is not contained in it");
        (await TagsAsync(ids, "date=gt2013-01-12&date=lt2013-01-13")).Should().Equal("open-period", "period");
        (await TagsAsync(ids, "date=sa2013-01-09&date=lt2014")).Should().Equal("day", "morning", "next-day", "open-period", "period");
        (await TagsAsync(ids, "date=gt2025")).Should().Equal(["april", "march", "new-york-evening", "open-period"], "an open end goes on forever");
        (await TagsAsync(ids, "date=2013-01-14,2026-04")).Should().Equal(["april", "day", "morning"], "commas OR");
    }

    [Fact]
    public async Task Last_updated_and_missing_dates()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var id = await CreateAsync(new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "1") });
        (await IdsAsync($"Observation?_lastUpdated=gt{before}")).Should().Contain(id);
        (await IdsAsync("Observation?_lastUpdated=lt2000-01-01")).Should().BeEmpty();
        (await IdsAsync("Observation?date:missing=true")).Should().Equal(id);
        (await IdsAsync("Observation?date:missing=false")).Should().BeEmpty();
    }

    [Theory]
    [InlineData("date=2026-13")]
    [InlineData("date=not-a-date")]
    [InlineData("date=xx2026-01-01")]
    [InlineData("date=2026-02-30")]
    [InlineData("_lastUpdated=yesterday")]
    public async Task Malformed_dates_are_400(string query) =>
        (await StatusAsync($"Observation?{query}")).Should().Be(HttpStatusCode.BadRequest);
}
