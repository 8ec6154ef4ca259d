namespace FhirTrialGateway;

/// <summary>Configuration section "Fhir": the REST surface's limits and identity.</summary>
public sealed class GatewayOptions
{
    /// <summary>Public base URL (for example https://gateway.example.org/fhir); by default taken from the request.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Largest accepted request body; larger ones are answered 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Search and history page size when the client gives no _count.</summary>
    public int DefaultPageSize { get; set; } = 50;

    /// <summary>Largest _count honoured.</summary>
    public int MaxPageSize { get; set; } = 1000;
}
