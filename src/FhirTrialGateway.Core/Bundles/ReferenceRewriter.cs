using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Bundles;

/// <summary>
/// Rewrites references inside a resource (anywhere: nested elements, extensions, contained resources) from the
/// bundle-local full URLs (urn:uuid:, urn:oid:, or absolute URLs of entries) to the Type/id the entries were given.
/// </summary>
public static class ReferenceRewriter
{
    /// <summary>Every ResourceReference in the resource, depth first, contained resources included.</summary>
    public static IEnumerable<ResourceReference> References(Base element)
    {
        foreach (var (_, value) in element.EnumerateElements())
        {
            // A value is a single element or a list of them; primitives have no references below them.
            var children = value switch
            {
                Base single => [single],
                IEnumerable<Base> many => many,
                _ => [],
            };
            foreach (var child in children)
            {
                if (child is ResourceReference reference)
                {
                    yield return reference;
                }

                if (child is not PrimitiveType)
                {
                    foreach (var nested in References(child))
                    {
                        yield return nested;
                    }
                }
            }
        }
    }

    /// <summary>Replaces references found in <paramref name="targets"/>; returns how many were rewritten.</summary>
    public static int Rewrite(Resource resource, IReadOnlyDictionary<string, string> targets)
    {
        var rewritten = 0;
        foreach (var reference in References(resource))
        {
            if (reference.Reference is { } value && targets.TryGetValue(value, out var target))
            {
                reference.Reference = target;
                rewritten++;
            }
        }

        return rewritten;
    }
}
