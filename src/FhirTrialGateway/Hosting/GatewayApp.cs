using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Bundles;
using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Core.Storage;
using FhirTrialGateway.Http;
using FhirTrialGateway.Storage.Sqlite;
using Serilog;
using Serilog.Events;

namespace FhirTrialGateway.Hosting;

/// <summary>
/// Builds the gateway's web application: configuration, logging, storage, authentication and the FHIR endpoints.
/// Tests build it the same way and start it on Kestrel at 127.0.0.1.
/// </summary>
public static class GatewayApp
{
    public const string DefaultUrl = "http://localhost:8080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // No configuration reload: the gateway reads its settings once at start. Reloading would watch the content root
        // and every folder under it, and the default database (./data/gateway.db) lies under it: each WAL write woke
        // the file watcher, which cost a quarter of the create rate (3,350-3,379 against 4,413-4,474 creates/s, core
        // benchmark with its database under the working folder). Given first, so that a later argument can turn it on.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false", .. args] });
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var gateway = builder.Configuration.GetSection("Fhir").Get<GatewayOptions>() ?? new GatewayOptions();
        builder.Services.AddSingleton(gateway);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = gateway.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        // One logger per application instance (not the static Log.Logger), so tests can host several side by side.
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.BatchedConsole(TimeSpan.FromMilliseconds(200))
            .CreateLogger();
        builder.Services.AddSerilog(logger, dispose: true);

        var sqlite = builder.Configuration.GetSection("Storage:Sqlite").Get<SqliteStoreOptions>() ?? new SqliteStoreOptions();
        builder.Services.AddSingleton<IResourceStore>(services =>
            SqliteResourceStore.Open(sqlite, services.GetRequiredService<ILoggerFactory>().CreateLogger("Storage")));
        builder.Services.AddSingleton<Core.Audit.AuditSearchIndex>();
        builder.Services.AddSingleton<ResourceService>();
        builder.Services.AddSingleton(builder.Configuration.GetSection("Audit").Get<Audit.AuditIndexingOptions>() ?? new Audit.AuditIndexingOptions());
        builder.Services.AddHostedService<Audit.AuditIndexingService>();
        builder.Services.AddSingleton<Audit.AuditQueue>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Audit.AuditQueue>());
        builder.Services.AddSingleton(builder.Configuration.GetSection("Bundles").Get<BundleLimits>() ?? new BundleLimits());
        builder.Services.AddSingleton<BundleService>();
        builder.Services.AddSingleton<LargeBundleGate>();
        builder.AddGatewayValidation();

        var auth = builder.AddGatewayAuthentication();

        var app = builder.Build();
        app.LogAuthenticationMode(auth);
        app.Services.GetRequiredService<IResourceStore>(); // open and migrate now: fail at start, not on the first request
        app.MapGatewayPipeline(auth, logger);
        return app;
    }

    private static void MapGatewayPipeline(this WebApplication app, AuthOptions auth, Serilog.ILogger logger)
    {
        app.UseSerilogRequestLogging(logging =>
        {
            logging.Logger = logger;
            logging.MessageTemplate = auth.Enabled
                ? "HTTP {RequestMethod} {RequestPath} {StatusCode} in {Elapsed:0.000} ms"
                : "HTTP {RequestMethod} {RequestPath} {StatusCode} in {Elapsed:0.000} ms (DEVELOPMENT MODE: authentication disabled)";
            logging.GetLevel = (context, _, error) =>
                error is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : !auth.Enabled ? LogEventLevel.Warning
                : LogEventLevel.Information;
            logging.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                // Ids and types only: never bodies, never query strings (they can carry identifiers).
                if (context.Request.RouteValues.TryGetValue("type", out var type))
                {
                    diagnostics.Set("ResourceType", type);
                }

                if (context.Request.RouteValues.TryGetValue("id", out var id))
                {
                    diagnostics.Set("ResourceId", id);
                }
            };
        });
        app.UseMiddleware<FhirErrorHandling>();
        app.UseStatusCodePages(context => FhirErrorHandling.WriteStatusOutcomeAsync(context.HttpContext));
        app.UseGatewayAuthentication(auth);

        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (IResourceStore store, CancellationToken cancellationToken) =>
        {
            await store.ReadCurrentAsync("Patient", "readiness-probe", cancellationToken);
            return Results.Text("ready");
        });

        app.MapGroup("/fhir").MapMetadata();
        app.MapSmartEndpoints(auth);
        app.MapClientAdminEndpoints(auth);
        var api = app.MapGroup("/fhir").RequireGatewayRateLimit();
        if (auth.Enabled)
        {
            api.RequireAuthorization(AuthenticationSetup.ApiPolicy);
        }

        api.MapBundleEndpoints();
        api.MapValidateOperation();
        api.MapSearchAndHistoryEndpoints();
        api.MapResourceEndpoints();
    }

    private static void MapMetadata(this RouteGroupBuilder fhir)
    {
        fhir.MapGet("/metadata", (HttpContext context, AuthOptions auth) =>
            FhirResponse.Of(StatusCodes.Status200OK,
                CapabilityStatementFactory.Create(FhirRequestContext.BaseUrl(context), auth.Enabled ? SmartUrls.TokenUrl(context, auth) : null),
                summary: ResourceEndpoints.Summary(context), elements: ResourceEndpoints.Elements(context)));
    }
}
