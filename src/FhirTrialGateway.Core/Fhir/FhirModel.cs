using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Fhir;

/// <summary>What the R4 model knows: the resource types and the shape of ids, taken from the SDK, not a hand list.</summary>
public static partial class FhirModel
{
    /// <summary>Every concrete R4 resource type the SDK carries (abstract Resource/DomainResource excluded).</summary>
    public static FrozenSet<string> ResourceTypes { get; } = ModelInfo.SupportedResources
        .Where(t => ModelInfo.GetTypeForFhirType(t) is { IsAbstract: false })
        .ToFrozenSet(StringComparer.Ordinal);

    public static bool IsResourceType(string name) => ResourceTypes.Contains(name);

    /// <summary>FHIR id: 1-64 of [A-Za-z0-9\-\.] (R4 datatypes, id).</summary>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>Throws 404 when <paramref name="type"/> is not an R4 resource type.</summary>
    public static void RequireResourceType(string type)
    {
        if (!IsResourceType(type))
        {
            throw FhirException.NotFound($"Unknown resource type '{type}'. This server serves FHIR R4 (4.0.1) resource types.");
        }
    }

    public static void RequireValidId(string id, string expression = "id")
    {
        if (!IsValidId(id))
        {
            throw FhirException.BadRequest($"'{id}' is not a valid FHIR id: 1 to 64 characters of A-Z, a-z, 0-9, '-' and '.'.", expression);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9\\-\\.]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
