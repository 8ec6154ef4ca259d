using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Unit;

public sealed class SearchIndexerTests
{
    [Fact]
    public void Identifier_tokens_come_from_the_R4_search_parameter_expression()
    {
        var observation = new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "89260-4") };
        observation.Identifier.Add(new Identifier("urn:a", "1"));
        observation.Identifier.Add(new Identifier(null, "2"));
        observation.Identifier.Add(new Identifier("urn:a", "1"));

        SearchIndexer.Instance.Extract(observation).Tokens.Where(t => t.Parameter == "identifier").Should().Equal(
            new TokenIndexEntry("identifier", "urn:a", "1"), new TokenIndexEntry("identifier", null, "2"));
    }

    [Fact]
    public void Types_without_the_parameter_index_nothing()
    {
        SearchIndexer.Instance.SupportsToken("Binary", "identifier").Should().BeFalse();
        SearchIndexer.Instance.SupportsToken("ResearchSubject", "identifier").Should().BeTrue();
        SearchIndexer.Instance.Extract(new Binary { ContentType = "text/plain" }).Count.Should().Be(0);
    }
}

public sealed class SearchExpressionNarrowingTests
{
    [Theory]
    [InlineData("Account.identifier | Observation.identifier | Patient.identifier", "Observation", "Observation.identifier")]
    [InlineData("Observation.identifier", "Observation", "Observation.identifier")]
    [InlineData("(ActivityDefinition.useContext.value as CodeableConcept) | (Observation.code)", "Observation", "(Observation.code)")]
    [InlineData("Resource.id", "Observation", "Resource.id")]
    public void Shared_unions_keep_only_the_branches_of_the_type(string expression, string type, string expected) =>
        SearchParameters.NarrowToType(expression, type).Should().Be(expected);
}
