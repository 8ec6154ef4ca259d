using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;

namespace FhirTrialGateway.Tests.Unit;

public sealed class SearchRequestParserTests
{
    private static SearchRequest Parse(string query, bool strict = false) =>
        SearchRequestParser.Parse("Observation", SearchRequestParser.ParseQueryString(query), new SearchLimits(50, 200), strict);

    [Theory]
    [InlineData("code", null, "code")]
    [InlineData("http://s|code", "http://s", "code")]
    [InlineData("|code", "", "code")]
    [InlineData("http://s|", "http://s", null)]
    public void Token_values_take_the_four_R4_forms(string raw, string? system, string? code) =>
        TokenValue.Parse(raw).Should().Be(new TokenValue(system, code));

    [Fact]
    public void Commas_or_values_and_repeats_and_them()
    {
        var request = Parse("identifier=a,b&identifier=c&_id=x\\,y");
        request.Query.Clauses.Should().HaveCount(3);
        request.Query.Clauses[0].Should().BeOfType<TokenClause>().Which.Values.Select(v => v.Code).Should().Equal("a", "b");
        request.Query.Clauses[2].Should().BeOfType<IdClause>().Which.Ids.Should().Equal("x,y");
    }

    [Fact]
    public void Count_is_capped_and_summary_count_asks_only_for_the_total()
    {
        Parse("_count=5000").Query.Count.Should().Be(200);
        var count = Parse("_summary=count");
        count.Query.Count.Should().Be(0);
        count.Query.Total.Should().NotBe(TotalMode.None);
        Parse("_total=none").Query.Total.Should().Be(TotalMode.None);
    }

    [Fact]
    public void Unknown_parameters_are_ignored_when_lenient_and_rejected_when_strict()
    {
        Parse("foo=1&identifier:of-type=x").Ignored.Should().Equal("foo", "identifier:of-type");
        var strict = () => Parse("foo=1", strict: true);
        strict.Should().Throw<FhirException>().Which.Status.Should().Be(System.Net.HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("_count=-1")]
    [InlineData("_summary=maybe")]
    [InlineData("_total=all")]
    [InlineData("identifier=")]
    [InlineData("_cursor=abc")]
    public void Malformed_values_are_400(string query) =>
        FluentActions.Invoking(() => Parse(query)).Should().Throw<FhirException>()
            .Which.Status.Should().Be(System.Net.HttpStatusCode.BadRequest);

    [Fact]
    public void Conditions_need_a_criterion()
    {
        FluentActions.Invoking(() => SearchRequestParser.ParseCondition("Patient", "_count=1")).Should().Throw<FhirException>();
        SearchRequestParser.ParseCondition("Patient", "identifier=urn:x%7C1").Clauses.Should().ContainSingle()
            .Which.Should().BeOfType<TokenClause>().Which.Values.Single().Should().Be(new TokenValue("urn:x", "1"));
    }
}
