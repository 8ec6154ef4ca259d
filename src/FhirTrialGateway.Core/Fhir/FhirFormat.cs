namespace FhirTrialGateway.Core.Fhir;

/// <summary>The two FHIR wire formats the server speaks.</summary>
public enum FhirFormat
{
    Json,
    Xml,
}
