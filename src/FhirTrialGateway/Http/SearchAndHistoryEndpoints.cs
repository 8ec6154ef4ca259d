using System.Globalization;
using FhirTrialGateway.Audit;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Search;
using FhirTrialGateway.Core.Storage;

namespace FhirTrialGateway.Http;

/// <summary>
/// Search at type and system level (GET and POST _search with a form body), compartment search
/// (Patient/[id]/Observation), and history at instance, type and system level.
/// </summary>
internal static class SearchAndHistoryEndpoints
{
    public static void MapSearchAndHistoryEndpoints(this RouteGroupBuilder fhir)
    {
        fhir.MapGet("/", (HttpContext context, ResourceService service) => Search(null, QueryPairs(context.Request.Query), context, service));
        fhir.MapPost("/_search", (HttpContext context, ResourceService service) => SearchPost(null, context, service));
        fhir.MapGet("/{type}", SearchGet);
        fhir.MapPost("/{type}/_search", (string type, HttpContext context, ResourceService service) => SearchPost(type, context, service));
        fhir.MapGet("/{compartment}/{id}/{type}", CompartmentSearch);
        fhir.MapGet("/_history", (HttpContext context, ResourceService service) => History(null, null, context, service));
        fhir.MapGet("/{type}/_history", (string type, HttpContext context, ResourceService service) => History(type, null, context, service));
        fhir.MapGet("/{type}/{id}/_history", (string type, string id, HttpContext context, ResourceService service) => History(type, id, context, service));
    }

    private static Task<IResult> SearchGet(string type, HttpContext context, ResourceService service) =>
        Search(type, QueryPairs(context.Request.Query), context, service);

    private static async Task<IResult> SearchPost(string? type, HttpContext context, ResourceService service)
    {
        if (type is not null)
        {
            FhirModel.RequireResourceType(type);
        }

        if (!context.Request.HasFormContentType)
        {
            throw new FhirException(System.Net.HttpStatusCode.UnsupportedMediaType, Outcomes.Error(
                Hl7.Fhir.Model.OperationOutcome.IssueType.NotSupported, "POST _search takes application/x-www-form-urlencoded parameters."));
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var pairs = QueryPairs(context.Request.Query);
        pairs.AddRange(form.SelectMany(f => f.Value.Select(v => new KeyValuePair<string, string>(f.Key, v ?? ""))));
        return await Search(type, pairs, context, service);
    }

    /// <summary>
    /// Patient/[id]/Observation: the Observations that refer to the Patient through the reference parameters that
    /// make up the compartment (derived from the search parameters, see <see cref="SearchParameters.CompartmentParameters"/>).
    /// </summary>
    private static Task<IResult> CompartmentSearch(string compartment, string id, string type, HttpContext context, ResourceService service)
    {
        FhirModel.RequireResourceType(compartment);
        FhirModel.RequireValidId(id);
        FhirModel.RequireResourceType(type);
        var parameters = SearchParameters.Instance.CompartmentParameters(compartment, type);
        if (parameters.Count == 0)
        {
            throw FhirException.BadRequest($"{type} is not in the {compartment} compartment.");
        }

        var clause = new ReferenceClause(parameters, [new ReferenceValue(compartment, id)]);
        return Search(type, QueryPairs(context.Request.Query), context, service, clause, $"{compartment}/{id}/{type}");
    }

    private static async Task<IResult> Search(string? type, List<KeyValuePair<string, string>> parameters, HttpContext context,
        ResourceService service, SearchClause? compartment = null, string? path = null)
    {
        var options = context.RequestServices.GetRequiredService<GatewayOptions>();
        var baseUrl = FhirRequestContext.BaseUrl(context);
        var request = SearchRequestParser.Parse(type, parameters, new SearchLimits(options.DefaultPageSize, options.MaxPageSize),
            FhirRequestContext.StrictHandling(context.Request), baseUrl);
        if (compartment is not null)
        {
            request = request with { Query = request.Query with { Clauses = [compartment, .. request.Query.Clauses] } };
        }

        var principal = AuthorizeSearch(context, type, request.Query.Types);
        var site = principal.DataSite;
        request = request with { Query = request.Query with { Site = site } };
        var page = await service.SearchAsync(request.Query, context.RequestAborted);
        // Included resources are answered only where the token may read their type (and AuditEvents only to admins).
        page = page with
        {
            Included = [.. page.Included.Where(r => principal.Allows(r.ResourceType, Interaction.Read) && Sites.Visible(site, r.Site)
                                                  && (r.ResourceType != AuditAccess.AuditEventType || principal.Role == ClientRole.Admin))],
        };
        var bundle = ResultBundles.Searchset(request, page, baseUrl, path ?? type ?? "");
        var summary = request.Summary == Hl7.Fhir.Rest.SummaryType.Count ? Hl7.Fhir.Rest.SummaryType.False : request.Summary;
        return FhirResponse.Of(StatusCodes.Status200OK, bundle, summary: summary, elements: request.Elements);
    }

    private static async Task<IResult> History(string? type, string? id, HttpContext context, ResourceService service)
    {
        AuthorizeHistory(context, type);
        var options = context.RequestServices.GetRequiredService<GatewayOptions>();
        var query = context.Request.Query;
        var count = options.DefaultPageSize;
        DateTimeOffset? since = null;
        long? cursor = null;
        foreach (var (name, values) in query)
        {
            var value = values.ToString();
            switch (name)
            {
                case "_count":
                    count = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c)
                        ? Math.Clamp(c, 1, options.MaxPageSize)
                        : throw FhirException.BadRequest($"_count must be a positive integer, not '{value}'.", "_count");
                    break;
                case "_since":
                    since = DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s)
                        ? s
                        : throw FhirException.BadRequest($"_since must be a FHIR instant such as 2026-01-31T12:00:00Z, not '{value}'.", "_since");
                    break;
                case "_cursor":
                    cursor = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var k)
                        ? k
                        : throw FhirException.BadRequest($"_cursor is a paging cursor this server wrote; '{value}' is not one.", "_cursor");
                    break;
                case "_format" or "_pretty":
                    break;
                default:
                    if (FhirRequestContext.StrictHandling(context.Request))
                    {
                        throw FhirException.BadRequest($"The history parameter '{name}' is not supported.", name,
                            Hl7.Fhir.Model.OperationOutcome.IssueType.NotSupported);
                    }

                    break;
            }
        }

        var page = await service.HistoryAsync(new HistoryQuery(type, id, since, count, cursor, context.DataSite()), context.RequestAborted);
        var baseUrl = FhirRequestContext.BaseUrl(context);
        var path = string.Join('/', new[] { type, id }.Where(p => p is not null)) is { Length: > 0 } p ? $"/{p}" : "";
        var self = $"{baseUrl}{path}/_history?_count={count}"
                   + (since is null ? "" : $"&_since={Uri.EscapeDataString(query["_since"].ToString())}")
                   + (cursor is null ? "" : $"&_cursor={cursor}");
        return FhirResponse.Of(StatusCodes.Status200OK, ResultBundles.History(page, self, baseUrl));
    }

    /// <summary>
    /// Type-level search needs the type's search scope. System-level search needs a search scope for every type it
    /// names in _type; without _type it spans every type and is for admins only.
    /// </summary>
    private static GatewayPrincipal AuthorizeSearch(HttpContext context, string? type, IReadOnlyList<string> types)
    {
        var principal = context.RequireGatewayPrincipal();
        IEnumerable<string> searched = type is not null ? [type] : types;
        if (type is null && types.Count == 0 && principal.Role != ClientRole.Admin)
        {
            throw new FhirException(System.Net.HttpStatusCode.Forbidden, Outcomes.Error(Hl7.Fhir.Model.OperationOutcome.IssueType.Forbidden,
                "A search across all types is for admins; name the types with _type."));
        }

        foreach (var searchedType in searched)
        {
            AuditAccess.RequireReader(principal, searchedType);
            ScopeAuthorization.Require(principal, searchedType, Interaction.Search);
        }

        return principal;
    }

    /// <summary>Instance and type history need the type's read scope; whole-system history (every type, the audit trail too) is for admins.</summary>
    private static void AuthorizeHistory(HttpContext context, string? type)
    {
        var principal = context.RequireGatewayPrincipal();
        if (type is null)
        {
            if (principal.Role != ClientRole.Admin)
            {
                throw new FhirException(System.Net.HttpStatusCode.Forbidden, Outcomes.Error(Hl7.Fhir.Model.OperationOutcome.IssueType.Forbidden,
                    "Whole-system history is for admins; ask for the history of a type."));
            }

            return;
        }

        FhirModel.RequireResourceType(type);
        AuditAccess.RequireReader(principal, type);
        ScopeAuthorization.Require(principal, type, Interaction.Read);
    }

    private static List<KeyValuePair<string, string>> QueryPairs(IQueryCollection query) =>
        query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? ""))).ToList();
}
