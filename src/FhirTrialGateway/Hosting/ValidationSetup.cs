using FhirTrialGateway.Core.Resources;
using FhirTrialGateway.Validation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FhirTrialGateway.Hosting;

/// <summary>
/// Profile validation in the server: one <see cref="ProfileValidator"/> per process, built on first use, warmed in
/// the background at start (Validation:WarmOnStart, default true) so that the first real validation does not pay for
/// snapshot generation; and the write check that rejects non-conforming resources with 422.
/// </summary>
internal static class ValidationSetup
{
    public static void AddGatewayValidation(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ValidationOptions.SectionName).Get<ValidationOptions>() ?? new ValidationOptions();
        if (string.IsNullOrWhiteSpace(options.SnapshotCachePath))
        {
            // The data folder outlives restarts and temp cleaners: the next start reads the generated snapshots back
            // instead of generating them again.
            options.SnapshotCachePath = Path.Combine(Auth.AuthOptions.DataDirectory(builder.Configuration), "validation-cache");
        }

        builder.Services.AddSingleton(options);
        // TryAdd: a host (or a test) may supply an already warmed validator.
        builder.Services.TryAddSingleton(services => new ProfileValidator(options, services.GetRequiredService<IWebHostEnvironment>().ContentRootPath));
        builder.Services.AddSingleton<WriteValidator>(services =>
        {
            var required = options.RequiredProfiles;
            return (resource, cancellationToken) =>
            {
                // Most writes claim no profile and have none required: they never touch (or build) the validator.
                var claims = resource.Meta?.Profile.Any() == true;
                if (!claims && !required.ContainsKey(resource.TypeName))
                {
                    return ValueTask.FromResult<Hl7.Fhir.Model.OperationOutcome?>(null);
                }

                return services.GetRequiredService<ProfileValidator>().ValidateForWriteAsync(resource, cancellationToken);
            };
        });
        if (builder.Configuration.GetValue("Validation:WarmOnStart", true))
        {
            builder.Services.AddHostedService<ValidationWarmUp>();
        }
    }

    /// <summary>Warms the validator after start-up, off the request path, and logs how long it took.</summary>
    private sealed class ValidationWarmUp(ProfileValidator validator, ILogger<ValidationWarmUp> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            try
            {
                var elapsed = await validator.WarmAsync(stoppingToken);
                var cache = validator.DefinitionCacheStatistics;
                logger.LogInformation(
                    "Validator warm: {ProfileCount} profiles compiled in {WarmUpSeconds:0.0} s; definitions {DefinitionsReused} read from the cache, {DefinitionsResolved} resolved, {DefinitionsRejected} damaged entries replaced",
                    validator.PackageProfiles.Count, elapsed.TotalSeconds, cache.Reused, cache.Resolved, cache.Rejected);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }
}
