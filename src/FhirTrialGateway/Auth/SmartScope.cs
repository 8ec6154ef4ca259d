using System.Diagnostics.CodeAnalysis;
using System.Text;
using FhirTrialGateway.Core.Fhir;

namespace FhirTrialGateway.Auth;

/// <summary>
/// The five SMART v2 permissions. FHIR interactions map onto them: read, vread and history → <see cref="Read"/>;
/// search (also _include/_revinclude results) → <see cref="Search"/>; create → <see cref="Create"/>; update
/// (also conditional update and patch) → <see cref="Update"/>; delete → <see cref="Delete"/>.
/// </summary>
[Flags]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "SMART vocabulary.")]
public enum Interaction
{
    None = 0,
    Create = 1,
    Read = 2,
    Update = 4,
    Delete = 8,
    Search = 16,
    All = Create | Read | Update | Delete | Search,
}

/// <summary>
/// One SMART system scope, v2 (<c>system/Observation.rs</c>, <c>system/*.cruds</c>) or v1 (<c>system/Observation.read</c>,
/// <c>.write</c>, <c>.*</c>), normalised to a resource type (or <c>*</c>) and a set of <see cref="Interaction"/>s.
/// v1 <c>read</c> means v2 <c>rs</c>, <c>write</c> means <c>cud</c>, <c>*</c> means <c>cruds</c> (SMART 2.0 scopes, "Scopes for
/// requesting FHIR resources", v1 compatibility). Only the <c>system/</c> context exists for Backend Services; v2
/// granular scopes with query parameters (<c>?category=...</c>) are refused rather than silently widened.
/// </summary>
public sealed record SmartScope(string ResourceType, Interaction Interactions, string Text)
{
    public const string Wildcard = "*";

    public bool AppliesTo(string resourceType) => ResourceType == Wildcard || ResourceType == resourceType;

    public bool Allows(string resourceType, Interaction interaction) =>
        interaction != Interaction.None && AppliesTo(resourceType) && (Interactions & interaction) == interaction;

    /// <summary>The v2 text of this scope's meaning, e.g. <c>system/Observation.rs</c>.</summary>
    public string ToV2String() => $"system/{ResourceType}.{Letters(Interactions)}";

    public override string ToString() => Text;

    /// <summary>Parses one scope; throws <see cref="SmartScopeException"/> (→ OAuth invalid_scope) when malformed.</summary>
    public static SmartScope Parse(string text) =>
        TryParse(text, out var scope, out var error) ? scope : throw new SmartScopeException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out SmartScope? scope, [NotNullWhen(false)] out string? error)
    {
        scope = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "An empty scope is not a scope.";
            return false;
        }

        if (text.Contains('?', StringComparison.Ordinal))
        {
            error = $"Scope '{text}': granular scopes with search parameters are not supported by this server.";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var dot = text.LastIndexOf('.');
        if (slash <= 0 || dot < slash + 2 || dot == text.Length - 1)
        {
            error = $"Scope '{text}' is not of the form system/[type].[permissions] (e.g. system/Observation.rs or system/Patient.read).";
            return false;
        }

        var context = text[..slash];
        if (context != "system")
        {
            error = $"Scope '{text}': only system/ scopes exist for SMART Backend Services (not '{context}/').";
            return false;
        }

        var type = text[(slash + 1)..dot];
        if (type != Wildcard && !FhirModel.IsResourceType(type))
        {
            error = $"Scope '{text}': '{type}' is not a FHIR R4 resource type.";
            return false;
        }

        var permissions = text[(dot + 1)..];
        var interactions = permissions switch
        {
            "read" => Interaction.Read | Interaction.Search,
            "write" => Interaction.Create | Interaction.Update | Interaction.Delete,
            "*" => Interaction.All,
            _ => ParseV2(permissions),
        };
        if (interactions == Interaction.None)
        {
            error = $"Scope '{text}': '{permissions}' is neither read, write, * (SMART v1) nor a non-empty ordered subset of cruds (SMART v2).";
            return false;
        }

        scope = new SmartScope(type, interactions, text);
        error = null;
        return true;
    }

    /// <summary>v2 letters: a non-empty subset of c, r, u, d, s in that order, each at most once; None when malformed.</summary>
    private static Interaction ParseV2(string letters)
    {
        const string order = "cruds";
        var result = Interaction.None;
        var position = 0;
        foreach (var letter in letters)
        {
            var index = order.IndexOf(letter, position);
            if (index < 0)
            {
                return Interaction.None;
            }

            result |= (Interaction)(1 << index);
            position = index + 1;
        }

        return result;
    }

    internal static string Letters(Interaction interactions)
    {
        var text = new StringBuilder(5);
        if (interactions.HasFlag(Interaction.Create)) { text.Append('c'); }
        if (interactions.HasFlag(Interaction.Read)) { text.Append('r'); }
        if (interactions.HasFlag(Interaction.Update)) { text.Append('u'); }
        if (interactions.HasFlag(Interaction.Delete)) { text.Append('d'); }
        if (interactions.HasFlag(Interaction.Search)) { text.Append('s'); }
        return text.ToString();
    }
}

/// <summary>A malformed or unsupported scope; the token endpoint answers it with OAuth <c>invalid_scope</c>.</summary>
public sealed class SmartScopeException(string message) : Exception(message);

/// <summary>
/// A set of granted or registered scopes: what a token or a client registration allows. Immutable; the answer to
/// "may this principal do interaction X on type T" is <see cref="Allows"/>.
/// </summary>
public sealed class SmartScopeSet
{
    public static readonly SmartScopeSet Empty = new([]);

    /// <summary>Everything (development mode).</summary>
    public static readonly SmartScopeSet Everything = new([new SmartScope(SmartScope.Wildcard, Interaction.All, "system/*.cruds")]);

    public SmartScopeSet(IEnumerable<SmartScope> scopes) => Scopes = [.. scopes];

    public IReadOnlyList<SmartScope> Scopes { get; }

    public bool IsEmpty => Scopes.Count == 0;

    /// <summary>Parses a space-separated scope string (the OAuth <c>scope</c> parameter and claim). Throws on a malformed scope.</summary>
    public static SmartScopeSet Parse(string? text) => Parse((text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public static SmartScopeSet Parse(IEnumerable<string> scopes) => new(scopes.Distinct(StringComparer.Ordinal).Select(SmartScope.Parse));

    /// <summary>Parses leniently: malformed entries (e.g. "openid" from an external server) are skipped, never widened.</summary>
    public static SmartScopeSet ParseKnown(IEnumerable<string> scopes) =>
        new(scopes.Select(s => SmartScope.TryParse(s, out var scope, out _) ? scope : null).OfType<SmartScope>());

    public bool Allows(string resourceType, Interaction interaction) =>
        interaction != Interaction.None && (Allowed(resourceType) & interaction) == interaction;

    /// <summary>Every interaction the set allows on <paramref name="resourceType"/> (union over the scopes that apply).</summary>
    public Interaction Allowed(string resourceType)
    {
        var result = Interaction.None;
        foreach (var scope in Scopes)
        {
            if (scope.AppliesTo(resourceType))
            {
                result |= scope.Interactions;
            }
        }

        return result;
    }

    /// <summary>
    /// The part of <paramref name="requested"/> that this (registered) set also allows. A requested scope that is fully
    /// covered keeps its own text (a v1 client gets v1 back); a partly covered one becomes the v2 scopes of what remains
    /// (<c>system/*.rs</c> requested, <c>system/Observation.rs</c> registered → <c>system/Observation.rs</c>).
    /// </summary>
    public SmartScopeSet Intersect(SmartScopeSet requested)
    {
        var granted = new List<SmartScope>();
        foreach (var want in requested.Scopes)
        {
            var covered = Allowed(want.ResourceType) & want.Interactions;
            if (want.ResourceType == SmartScope.Wildcard)
            {
                covered = Interaction.None;
                foreach (var have in Scopes.Where(h => h.ResourceType == SmartScope.Wildcard))
                {
                    covered |= have.Interactions & want.Interactions;
                }
            }

            if (covered == want.Interactions)
            {
                granted.Add(want);
                continue;
            }

            if (covered != Interaction.None)
            {
                granted.Add(Make(want.ResourceType, covered));
            }

            if (want.ResourceType == SmartScope.Wildcard)
            {
                // Wildcard requested, only specific types registered: grant those types, each with what both allow.
                foreach (var have in Scopes.Where(h => h.ResourceType != SmartScope.Wildcard))
                {
                    var extra = have.Interactions & want.Interactions & ~covered;
                    if (extra != Interaction.None)
                    {
                        granted.Add(Make(have.ResourceType, extra));
                    }
                }
            }
        }

        return new SmartScopeSet(Normalise(granted));
    }

    /// <summary>The same set without the given interactions (a sponsor's scopes never carry c, u or d).</summary>
    public SmartScopeSet Without(Interaction interactions) =>
        new(Normalise(Scopes.Select(s => (s.Interactions & ~interactions) == s.Interactions ? s : Make(s.ResourceType, s.Interactions & ~interactions))
            .Where(s => s.Interactions != Interaction.None)));

    /// <summary>True when any scope grants one of <paramref name="interactions"/>.</summary>
    public bool AnyGrants(Interaction interactions) => Scopes.Any(s => (s.Interactions & interactions) != Interaction.None);

    /// <summary>The space-separated scope string of a token response and claim.</summary>
    public override string ToString() => string.Join(' ', Scopes.Select(s => s.Text));

    private static SmartScope Make(string type, Interaction interactions)
    {
        var scope = new SmartScope(type, interactions, "");
        return scope with { Text = scope.ToV2String() };
    }

    private static IEnumerable<SmartScope> Normalise(IEnumerable<SmartScope> scopes) =>
        scopes.Where(s => s.Interactions != Interaction.None).DistinctBy(s => s.Text, StringComparer.Ordinal);
}
