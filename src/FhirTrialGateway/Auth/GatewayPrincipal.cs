using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Auth;

/// <summary>
/// Who is calling, as the validated access token says: the client id, its role, its site (hospitals) and the scopes
/// granted to this token. Built once per request from the JwtBearer-validated claims
/// (<see cref="GatewayPrincipalExtensions.GetGatewayPrincipal"/>). In development mode (Auth:Enabled=false) every
/// request is <see cref="Development"/>: an admin with every scope and no site.
/// </summary>
public sealed record GatewayPrincipal(string ClientId, ClientRole Role, string? Site, SmartScopeSet Scopes)
{
    public static readonly GatewayPrincipal Development = new("development", ClientRole.Admin, null, SmartScopeSet.Everything) { IsDevelopment = true };

    /// <summary>True only in development mode (no authentication).</summary>
    public bool IsDevelopment { get; init; }

    public bool Allows(string resourceType, Interaction interaction) => Scopes.Allows(resourceType, interaction);

    /// <summary>The site whose data this caller is confined to: a hospital's site; null (every site) for sponsors and admins.</summary>
    public string? DataSite => Role == ClientRole.Hospital ? Site : null;

    /// <summary>
    /// Reads the principal from validated token claims: client_id (else azp, else sub), scope (space-separated; also
    /// scp as Entra ID writes it), role (also roles) and site. Scopes that are not SMART system scopes (openid ...) are
    /// ignored. Fails when the client id or a known role is missing: such a token can do nothing here.
    /// </summary>
    public static bool TryFrom(ClaimsPrincipal user, [NotNullWhen(true)] out GatewayPrincipal? principal, [NotNullWhen(false)] out string? problem)
    {
        principal = null;
        var clientId = First(user, GatewayClaims.ClientId, "azp", "sub");
        if (string.IsNullOrEmpty(clientId))
        {
            problem = "The token names no client (client_id, azp or sub).";
            return false;
        }

        var roleText = First(user, GatewayClaims.Role, "roles");
        if (!Enum.TryParse<ClientRole>(roleText, ignoreCase: true, out var role) || !Enum.IsDefined(role) || int.TryParse(roleText, out _))
        {
            problem = $"The token of client '{clientId}' carries no role (hospital, sponsor or admin).";
            return false;
        }

        var scopes = user.FindAll(GatewayClaims.Scope).Concat(user.FindAll("scp"))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var set = SmartScopeSet.ParseKnown(scopes);
        if (role == ClientRole.Sponsor)
        {
            set = set.Without(Interaction.Create | Interaction.Update | Interaction.Delete);
        }

        principal = new GatewayPrincipal(clientId, role, First(user, GatewayClaims.Site) is { Length: > 0 } site ? site : null, set);
        problem = null;
        return true;
    }

    private static string? First(ClaimsPrincipal user, params string[] types) =>
        types.Select(t => user.FindFirst(t)?.Value).FirstOrDefault(v => !string.IsNullOrEmpty(v));
}

public static class GatewayPrincipalExtensions
{
    /// <summary>The caller's data site (see <see cref="GatewayPrincipal.DataSite"/>); null in development mode.</summary>
    public static string? DataSite(this HttpContext context) => context.GetGatewayPrincipal()?.DataSite;

    private static readonly object ItemKey = new();

    /// <summary>
    /// Token principals come back from the validated-token cache as the same object on every request, so each is read
    /// once (reading the claims and parsing the scopes was about 8% of the bytes a secured read allocated).
    /// </summary>
    private static readonly ConditionalWeakTable<ClaimsPrincipal, GatewayPrincipal> FromTokens = new();

    /// <summary>
    /// The caller: <see cref="GatewayPrincipal.Development"/> in development mode, the token's principal when
    /// authenticated, null when not authenticated or the token lacks a client id or role. Cached per request.
    /// </summary>
    public static GatewayPrincipal? GetGatewayPrincipal(this HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached))
        {
            return cached as GatewayPrincipal;
        }

        GatewayPrincipal? principal = null;
        if (context.RequestServices.GetService<AuthOptions>() is { Enabled: false })
        {
            principal = GatewayPrincipal.Development;
        }
        else if (context.User.Identity?.IsAuthenticated == true && FromToken(context.User) is { } fromToken)
        {
            principal = fromToken;
        }

        context.Items[ItemKey] = principal;
        return principal;
    }

    private static GatewayPrincipal? FromToken(ClaimsPrincipal user)
    {
        if (FromTokens.TryGetValue(user, out var known))
        {
            return known;
        }

        if (!GatewayPrincipal.TryFrom(user, out var principal, out _))
        {
            return null;
        }

        FromTokens.AddOrUpdate(user, principal);
        return principal;
    }

    /// <summary>The caller, or a FhirException: 401 when unauthenticated, 403 when the token has no client id or role.</summary>
    public static GatewayPrincipal RequireGatewayPrincipal(this HttpContext context)
    {
        if (context.GetGatewayPrincipal() is { } principal)
        {
            return principal;
        }

        if (context.User.Identity?.IsAuthenticated != true)
        {
            throw new FhirException(HttpStatusCode.Unauthorized,
                Outcomes.Error(OperationOutcome.IssueType.Login, "Authentication is required: send a bearer token."));
        }

        GatewayPrincipal.TryFrom(context.User, out _, out var problem);
        throw new FhirException(HttpStatusCode.Forbidden, Outcomes.Error(OperationOutcome.IssueType.Forbidden, problem ?? "The token is not usable here."));
    }
}

/// <summary>
/// The authorization check endpoints call before they act: does the caller's token allow this interaction on this
/// resource type? Refusals are FhirExceptions (403 Forbidden OperationOutcome naming the missing scope), which the
/// error middleware turns into the response. For filtering (e.g. _include results) use <see cref="Allows"/>.
/// </summary>
public static class ScopeAuthorization
{
    /// <summary>Throws 401/403 unless the caller may do <paramref name="interaction"/> on <paramref name="resourceType"/>; answers the caller.</summary>
    public static GatewayPrincipal Require(HttpContext context, string resourceType, Interaction interaction)
    {
        var principal = context.RequireGatewayPrincipal();
        Require(principal, resourceType, interaction);
        return principal;
    }

    /// <summary>Throws 403 unless <paramref name="principal"/> may do <paramref name="interaction"/> on <paramref name="resourceType"/>.</summary>
    public static void Require(GatewayPrincipal principal, string resourceType, Interaction interaction)
    {
        if (!principal.Allows(resourceType, interaction))
        {
            throw Forbidden(principal, resourceType, interaction);
        }
    }

    /// <summary>True when the caller (development mode: always) may do <paramref name="interaction"/> on <paramref name="resourceType"/>.</summary>
    public static bool Allows(HttpContext context, string resourceType, Interaction interaction) =>
        context.GetGatewayPrincipal()?.Allows(resourceType, interaction) == true;

    /// <summary>The 403 answer for a refused interaction (also usable for a refused bundle entry).</summary>
    public static FhirException Forbidden(GatewayPrincipal principal, string resourceType, Interaction interaction) =>
        new(HttpStatusCode.Forbidden, Outcomes.Error(OperationOutcome.IssueType.Forbidden,
            $"The token of client '{principal.ClientId}' does not allow {interaction.ToString().ToLowerInvariant()} on {resourceType} " +
            $"(it needs a scope such as system/{resourceType}.{SmartScope.Letters(interaction)}; granted: {principal.Scopes})."));

    /// <summary>The SMART permission a FHIR type-level or instance-level interaction needs.</summary>
    public static Interaction For(CapabilityStatement.TypeRestfulInteraction interaction) => interaction switch
    {
        CapabilityStatement.TypeRestfulInteraction.Read or CapabilityStatement.TypeRestfulInteraction.Vread
            or CapabilityStatement.TypeRestfulInteraction.HistoryInstance or CapabilityStatement.TypeRestfulInteraction.HistoryType => Interaction.Read,
        CapabilityStatement.TypeRestfulInteraction.SearchType => Interaction.Search,
        CapabilityStatement.TypeRestfulInteraction.Create => Interaction.Create,
        CapabilityStatement.TypeRestfulInteraction.Update or CapabilityStatement.TypeRestfulInteraction.Patch => Interaction.Update,
        CapabilityStatement.TypeRestfulInteraction.Delete => Interaction.Delete,
        _ => throw new ArgumentOutOfRangeException(nameof(interaction), interaction, null),
    };
}
