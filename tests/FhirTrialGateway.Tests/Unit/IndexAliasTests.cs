using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using Hl7.Fhir.Model;
using Xunit.Abstractions;

namespace FhirTrialGateway.Tests.Unit;

/// <summary>Parameters that select only what other parameters already index are searched through those rows.</summary>
public sealed class IndexAliasTests(ITestOutputHelper output)
{
    [Fact]
    public void Observation_patient_and_the_combo_parameters_are_searched_through_their_twins()
    {
        var observation = SearchParameters.Instance.For("Observation");
        observation["patient"].StoredAs!.Parameters.Should().Equal("subject");
        observation["patient"].StoredAs!.TargetType.Should().Be("Patient");
        observation["combo-code"].StoredAs!.Parameters.Should().Equal("code", "component-code");
        observation["combo-value-quantity"].StoredAs!.Parameters.Should().Equal("component-value-quantity", "value-quantity");
        observation["combo-code"].StoredAs!.TargetType.Should().BeNull();
        observation["code"].StoredAs.Should().BeNull();
        observation["subject"].StoredAs.Should().BeNull();
        observation["code-value-quantity"].StoredAs.Should().BeNull();
        observation["combo-code-value-quantity"].StoredAs!.Parameters.Should().Equal("code-value-quantity", "component-code-value-quantity");
    }

    [Fact]
    public void Every_alias_points_at_parameters_of_the_same_type_that_keep_their_own_rows()
    {
        var count = 0;
        foreach (var type in ModelInfo.SupportedResources)
        {
            var parameters = SearchParameters.Instance.For(type);
            foreach (var parameter in parameters.Values.Where(p => p.StoredAs is not null))
            {
                count++;
                output.WriteLine($"{type}.{parameter.Name} -> {string.Join(" | ", parameter.StoredAs!.Parameters)}"
                                 + (parameter.StoredAs.TargetType is { } t ? $" ({t})" : ""));
                foreach (var target in parameter.StoredAs.Parameters)
                {
                    parameters[target].StoredAs.Should().BeNull($"{type}.{parameter.Name} points at {target}");
                    parameters[target].Type.Should().Be(parameter.Type);
                }
            }
        }

        count.Should().BeGreaterThan(10);
    }

    [Fact]
    public void The_indexer_writes_no_rows_for_aliased_parameters()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4", "Heart rate", "Heart rate"),
            Subject = new ResourceReference("Patient/p1"),
            Value = new Quantity(72, "/min", "http://unitsofmeasure.org"),
        };
        var rows = SearchIndexer.Instance.Extract(observation);
        rows.Tokens.Select(t => t.Parameter).Should().Contain("code").And.NotContain("combo-code");
        rows.Strings.Select(t => t.Parameter).Should().Contain("code:text").And.NotContain("combo-code:text");
        rows.References.Select(r => r.Parameter).Should().Equal("subject");
        rows.Quantities.Select(q => q.Parameter).Should().Equal("value-quantity");
        _ = ResourceSerializer.SerializeJson(observation);
    }
}
