using System.Collections.Concurrent;
using System.Collections.Frozen;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Search;

/// <summary>One search parameter as this server evaluates it for one resource type.</summary>
public sealed record SearchParameterInfo(
    string ResourceType,
    string Name,
    string? Url,
    SearchParamType Type,
    IReadOnlyList<string> Targets,
    ValuePath Path,
    CompositeInfo? Composite)
{
    /// <summary>Reference parameters whose targets are every resource type (Observation.focus, for example).</summary>
    public bool TargetsAnything => Targets.Count > 100;

    /// <summary>
    /// Set when this parameter selects nothing that other parameters of the type do not already index: it has no
    /// index rows of its own and is searched through theirs (<see cref="IndexAlias"/>).
    /// </summary>
    public IndexAlias? StoredAs { get; init; }
}

/// <summary>
/// A parameter searched through other parameters' index rows: the rows of <see cref="Parameters"/>, and when
/// <see cref="TargetType"/> is set only those whose reference targets that type. Derived from the SearchParameter
/// expressions: Observation's <c>combo-code</c> is <c>Observation.code | Observation.component.code</c>, the union of
/// <c>code</c> and <c>component-code</c>; its <c>patient</c> is <c>Observation.subject.where(resolve() is Patient)</c>,
/// <c>subject</c> restricted to Patient.
/// </summary>
public sealed record IndexAlias(IReadOnlyList<string> Parameters, string? TargetType);

/// <summary>A two-part composite: the base nodes, then the token part and the second part, relative to a node.</summary>
public sealed record CompositeInfo(ValuePath Base, ValuePath First, ValuePath Second, SearchParamType SecondType);

/// <summary>
/// The R4 search parameters for every resource type, from the SearchParameter definitions the Firely SDK carries
/// (<see cref="ModelInfo.SearchParameters"/>), with their FHIRPath expressions narrowed to the type. Nothing is
/// listed by hand except the six Resource-level parameters, which the SDK's list leaves out: they are copied from
/// the specification's SearchParameter resources (Resource-id, -lastUpdated, -tag, -profile, -security, -source).
/// </summary>
public sealed class SearchParameters
{
    /// <summary>Parameters stored as columns of the resources table, not as index rows.</summary>
    public const string Id = "_id";

    public const string LastUpdated = "_lastUpdated";

    private static readonly SearchParamDefinition[] ResourceLevel =
    [
        Common(Id, SearchParamType.Token, "Resource.id"),
        Common(LastUpdated, SearchParamType.Date, "Resource.meta.lastUpdated"),
        Common("_tag", SearchParamType.Token, "Resource.meta.tag"),
        Common("_profile", SearchParamType.Uri, "Resource.meta.profile"),
        Common("_security", SearchParamType.Token, "Resource.meta.security"),
        Common("_source", SearchParamType.Uri, "Resource.meta.source"),
    ];

    private static readonly FrozenDictionary<string, SearchParamDefinition> ByUrl = ModelInfo.SearchParameters
        .Where(d => d.Url is not null)
        .GroupBy(d => d.Url!)
        .ToFrozenDictionary(g => g.Key, g => g.First());

    private readonly ConcurrentDictionary<string, FrozenDictionary<string, SearchParameterInfo>> _byType = new(StringComparer.Ordinal);

    public static SearchParameters Instance { get; } = new();

    /// <summary>The parameters every type has (and the only ones of a system-level search).</summary>
    public IReadOnlyList<string> CommonNames { get; } = ResourceLevel.Select(d => d.Name!).ToArray();

    /// <summary>Every supported parameter of <paramref name="resourceType"/>, keyed by name.</summary>
    public FrozenDictionary<string, SearchParameterInfo> For(string resourceType) =>
        _byType.GetOrAdd(resourceType, Build);

    public SearchParameterInfo? Find(string resourceType, string name) =>
        For(resourceType).GetValueOrDefault(name);

    /// <summary>
    /// The reference parameters of <paramref name="resourceType"/> that put it in the compartment of
    /// <paramref name="compartmentType"/>. The SDK carries no CompartmentDefinitions, so the compartment is derived:
    /// the reference parameters that can target the compartment type, without those that can target anything.
    /// </summary>
    public IReadOnlyList<string> CompartmentParameters(string compartmentType, string resourceType) =>
        For(resourceType).Values
            .Where(p => p.Type == SearchParamType.Reference && !p.TargetsAnything && p.Targets.Contains(compartmentType))
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static FrozenDictionary<string, SearchParameterInfo> Build(string resourceType)
    {
        var result = new Dictionary<string, SearchParameterInfo>(StringComparer.Ordinal);
        var expressions = new Dictionary<string, string>(StringComparer.Ordinal);
        var compositeParts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var definition in ResourceLevel.Concat(ModelInfo.SearchParameters.Where(d => d.Resource == resourceType)))
        {
            if (definition.Name is not { } name || string.IsNullOrEmpty(definition.Expression) || result.ContainsKey(name))
            {
                continue;
            }

            var info = Describe(resourceType, definition);
            if (info is not null)
            {
                result[name] = info;
                expressions[name] = NarrowToType(definition.Expression!, resourceType);
                if (info.Composite is not null)
                {
                    // Composites can only stand for composites made of the same parts.
                    compositeParts[name] = string.Join(" ; ", definition.Component!.Select(c => c.Expression));
                }
            }
        }

        var aliases = result.Values.Select(info => (info.Name, Alias: AliasOf(info, expressions, compositeParts, result)))
            .Where(a => a.Alias is not null).ToDictionary(a => a.Name, a => a.Alias!, StringComparer.Ordinal);
        foreach (var (name, alias) in aliases)
        {
            // Only onto parameters that keep their own rows.
            if (!alias.Parameters.Any(aliases.ContainsKey))
            {
                result[name] = result[name] with { StoredAs = alias };
            }
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether <paramref name="parameter"/> is (1) a reference parameter whose expression is another reference
    /// parameter's followed by <c>.where(resolve() is T)</c>, or (2) a parameter whose union branches are exactly the
    /// branches of two or more other parameters of the same type (for composites: with the same component expressions,
    /// so that Observation's combo-code-value-quantity is code-value-quantity and component-code-value-quantity).
    /// The parameters aliases point at keep their own rows.
    /// </summary>
    private static IndexAlias? AliasOf(SearchParameterInfo parameter, Dictionary<string, string> expressions,
        Dictionary<string, string> compositeParts, Dictionary<string, SearchParameterInfo> all)
    {
        if (parameter.Name.StartsWith('_'))
        {
            return null;
        }

        var expression = expressions[parameter.Name];
        var candidates = all.Values
            .Where(other => other.Name != parameter.Name && other.Type == parameter.Type && !other.Name.StartsWith('_')
                            && (parameter.Composite is null
                                ? other.Composite is null
                                : other.Composite is not null && other.Composite.SecondType == parameter.Composite.SecondType
                                  && compositeParts[other.Name] == compositeParts[parameter.Name]))
            .ToList();
        if (parameter.Type == SearchParamType.Reference && ValuePath.TrySplitResolveFilter(expression, out var basePath, out var target))
        {
            var twin = candidates.FirstOrDefault(other => expressions[other.Name] == basePath);
            if (twin is not null && FhirModel.IsResourceType(target))
            {
                return new IndexAlias([twin.Name], target);
            }
        }

        var branches = SplitTopLevelUnion(expression).ToHashSet(StringComparer.Ordinal);
        if (branches.Count < 2)
        {
            return null;
        }

        var parts = candidates
            .Select(other => (other.Name, Branches: SplitTopLevelUnion(expressions[other.Name]).ToHashSet(StringComparer.Ordinal)))
            .Where(other => other.Branches.IsSubsetOf(branches))
            .ToList();
        var covered = parts.SelectMany(p => p.Branches).ToHashSet(StringComparer.Ordinal);
        return parts.Count >= 2 && covered.SetEquals(branches)
            ? new IndexAlias([.. parts.Select(p => p.Name).Order(StringComparer.Ordinal)], null)
            : null;
    }

    private static SearchParameterInfo? Describe(string resourceType, SearchParamDefinition definition)
    {
        var expression = NarrowToType(definition.Expression!, resourceType);
        var targets = (definition.Target ?? []).Select(t => t.ToString()).ToArray();
        switch (definition.Type)
        {
            case SearchParamType.Token or SearchParamType.String or SearchParamType.Date or SearchParamType.Number
                or SearchParamType.Quantity or SearchParamType.Reference or SearchParamType.Uri:
                return new SearchParameterInfo(resourceType, definition.Name!, definition.Url, definition.Type, targets,
                    ValuePath.Parse(expression, resourceType), null);
            case SearchParamType.Composite:
                var composite = DescribeComposite(expression, resourceType, definition.Component);
                return composite is null
                    ? null
                    : new SearchParameterInfo(resourceType, definition.Name!, definition.Url, definition.Type, targets, composite.Base, composite);
            default:
                return null; // special (Location.near) needs geometry: not supported
        }
    }

    /// <summary>Composites of a token and one other value; three-part ones (MolecularSequence coordinates) are left out.</summary>
    private static CompositeInfo? DescribeComposite(string expression, string resourceType, SearchParamComponent[]? components)
    {
        if (components is not { Length: 2 }
            || !ByUrl.TryGetValue(components[0].Definition, out var first) || first.Type != SearchParamType.Token
            || !ByUrl.TryGetValue(components[1].Definition, out var second)
            || second.Type is not (SearchParamType.Token or SearchParamType.Quantity or SearchParamType.Date
                or SearchParamType.String or SearchParamType.Number)
            || components.Any(c => c.Expression.Contains('%', StringComparison.Ordinal)))
        {
            return null;
        }

        return new CompositeInfo(ValuePath.Parse(expression, resourceType), ValuePath.Parse(components[0].Expression, null),
            ValuePath.Parse(components[1].Expression, null), second.Type);
    }

    private static SearchParamDefinition Common(string name, SearchParamType type, string expression) => new()
    {
        Resource = "Resource",
        Name = name,
        Type = type,
        Expression = expression,
        Url = $"http://hl7.org/fhir/SearchParameter/Resource-{name.TrimStart('_')}",
    };

    /// <summary>
    /// Parameters shared by many types carry one union for all of them ("Account.identifier | ActivityDefinition.identifier
    /// | ..."). Evaluating the whole union for every write costs ten times the parse; only the branches that can
    /// match this type are kept (those that start with the type's name or with no resource type at all).
    /// </summary>
    internal static string NarrowToType(string expression, string resourceType)
    {
        var branches = SplitTopLevelUnion(expression);
        var kept = branches.Where(b =>
        {
            var head = b.TrimStart('(').Split('.', 2)[0].Trim();
            return head == resourceType || head is "Resource" or "DomainResource" || !FhirModel.IsResourceType(head);
        }).ToList();
        return kept.Count == 0 ? expression : string.Join(" | ", kept);
    }

    internal static List<string> SplitTopLevelUnion(string expression)
    {
        var parts = new List<string>();
        var depth = 0;
        var quoted = false;
        var start = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '(')
            {
                depth++;
            }
            else if (!quoted && c == ')')
            {
                depth--;
            }
            else if (!quoted && depth == 0 && c == '|')
            {
                parts.Add(expression[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(expression[start..].Trim());
        return parts;
    }
}
