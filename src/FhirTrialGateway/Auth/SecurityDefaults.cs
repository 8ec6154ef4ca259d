using System.Globalization;
using System.Threading.RateLimiting;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Http;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.RateLimiting;

namespace FhirTrialGateway.Auth;

/// <summary>Configuration section "RateLimit".</summary>
public sealed class RateLimitOptions
{
    /// <summary>Token requests per minute per client address (fixed window); 0 turns the limit off.</summary>
    public int TokenPermitsPerMinute { get; set; } = 60;

    /// <summary>API requests per second per client (token bucket); default 50 with authentication on, off in development mode.</summary>
    public int? ApiPermitsPerSecond { get; set; }

    /// <summary>API burst: the bucket's size (default 4 × the per-second rate, at least 1).</summary>
    public int? ApiBurst { get; set; }
}

/// <summary>
/// Safe defaults around authentication (issue 3, item 7): rate limiting with 429 and Retry-After on the token
/// endpoint (per client address) and the API (per client id, else per address); CORS only for the origins listed in
/// Cors:AllowedOrigins (off otherwise); HSTS and HTTPS redirection when the server listens on an https URL.
/// </summary>
public static class SecurityDefaults
{
    public const string TokenRateLimitPolicy = "token";
    public const string ApiRateLimitPolicy = "fhir-api";

    public static void AddGatewaySecurityDefaults(this WebApplicationBuilder builder, AuthOptions auth)
    {
        var limits = builder.Configuration.GetSection("RateLimit").Get<RateLimitOptions>() ?? new RateLimitOptions();
        // 500/s per client: a hospital interface engine pushing a visit at a time stays far below it; a runaway loop does not.
        var apiPerSecond = limits.ApiPermitsPerSecond ?? (auth.Enabled ? 500 : 0);
        builder.Services.AddRateLimiter(rate =>
        {
            rate.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            rate.OnRejected = OnRejectedAsync;
            rate.AddPolicy(TokenRateLimitPolicy, context => limits.TokenPermitsPerMinute <= 0
                ? RateLimitPartition.GetNoLimiter("none")
                : RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.TokenPermitsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            rate.AddPolicy(ApiRateLimitPolicy, context => apiPerSecond <= 0
                ? RateLimitPartition.GetNoLimiter("none")
                : RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokensPerPeriod = apiPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    TokenLimit = Math.Max(1, limits.ApiBurst ?? apiPerSecond * 4),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });

        var origins = builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        if (origins.Length > 0)
        {
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
                .WithOrigins(origins)
                .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
                .WithHeaders("Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match", "If-None-Exist", "Prefer")
                .WithExposedHeaders("Location", "Content-Location", "ETag", "Last-Modified")));
        }
    }

    /// <summary>HSTS and HTTPS redirection (only when bound to https), CORS (only when configured); before authentication.</summary>
    public static void UseGatewaySecurityDefaults(this WebApplication app)
    {
        var urls = app.Configuration[WebHostDefaults.ServerUrlsKey] ?? "";
        if (urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        if ((app.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? []).Length > 0)
        {
            app.UseCors();
        }
    }

    internal static void UseGatewayRateLimiting(this WebApplication app) => app.UseRateLimiter();

    /// <summary>Adds the API's rate limit to a route group (the FHIR API); the token endpoint has its own.</summary>
    public static TBuilder RequireGatewayRateLimit<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireRateLimiting(ApiRateLimitPolicy);

    private static string PartitionKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.User.FindFirst(GatewayClaims.ClientId)?.Value is { Length: > 0 } client
            ? "client:" + client
            : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        if (context.Request.Path.StartsWithSegments("/auth", StringComparison.Ordinal))
        {
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                ["error"] = "temporarily_unavailable",
                ["error_description"] = "Too many token requests; retry after the time in Retry-After.",
            }, cancellationToken);
            return;
        }

        var outcome = Outcomes.Error(OperationOutcome.IssueType.Throttled, "Too many requests; retry after the time in Retry-After.");
        var format = FhirMediaTypes.ResponseFormatOrJson(context.Request);
        var bytes = ResourceSerializer.Serialize(outcome, format, pretty: false);
        context.Response.ContentType = FhirMediaTypes.ContentType(format);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, cancellationToken);
    }
}
