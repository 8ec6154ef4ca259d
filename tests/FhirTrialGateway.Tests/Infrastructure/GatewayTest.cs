namespace FhirTrialGateway.Tests.Infrastructure;

/// <summary>Base for test classes that talk to their own freshly started gateway.</summary>
public abstract class GatewayTest : IAsyncLifetime
{
    private TestGateway? _gateway;

    protected TestGateway Gateway => _gateway ?? throw new InvalidOperationException("The gateway is not started.");

    protected HttpClient Http => Gateway.Http;

    /// <summary>Extra configuration for this class's gateway, e.g. "Fhir:MaxRequestBodyBytes=2048".</summary>
    protected virtual string[] Settings => [];

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }
}
