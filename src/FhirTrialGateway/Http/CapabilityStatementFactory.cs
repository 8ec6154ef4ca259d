using System.Reflection;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Core.Search;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>
/// The CapabilityStatement: generated from the same model the endpoints use (the SDK's resource types and the
/// search parameters the indexer supports), so it states what the server does and nothing more.
/// </summary>
internal static class CapabilityStatementFactory
{
    public static CapabilityStatement Create(string baseUrl, string? tokenUrl)
    {
        var version = typeof(CapabilityStatementFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
        var statement = new CapabilityStatement
        {
            Status = PublicationStatus.Active,
            Date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Publisher = "FhirTrialGateway",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "FhirTrialGateway", Version = version.Split('+')[0] },
            Implementation = new CapabilityStatement.ImplementationComponent
            {
                Description = "FHIR gateway for interventional clinical trials",
                Url = baseUrl,
            },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["json", "xml", FhirMediaTypes.Json, FhirMediaTypes.Xml],
        };

        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Interaction =
            [
                new CapabilityStatement.SystemInteractionComponent { Code = CapabilityStatement.SystemRestfulInteraction.Transaction },
                new CapabilityStatement.SystemInteractionComponent { Code = CapabilityStatement.SystemRestfulInteraction.Batch },
                new CapabilityStatement.SystemInteractionComponent { Code = CapabilityStatement.SystemRestfulInteraction.HistorySystem },
            ],
        };
        AddSystemSearch(rest);
        if (tokenUrl is not null)
        {
            // SMART App Launch's way to declare the service: the SMART-on-FHIR service code and the oauth-uris
            // extension with the token endpoint (discovery: .well-known/smart-configuration).
            rest.Security = new CapabilityStatement.SecurityComponent
            {
                Service = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR")],
                Description = "SMART Backend Services (client_credentials with a signed JWT assertion); every interaction except " +
                              "metadata and discovery needs a bearer token with system scopes.",
            };
            var oauth = new Extension { Url = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris" };
            oauth.Extension.Add(new Extension("token", new FhirUri(tokenUrl)));
            rest.Security.Extension.Add(oauth);
        }

        foreach (var type in FhirModel.ResourceTypes.Order(StringComparer.Ordinal))
        {
            rest.Resource.Add(ResourceCapability(type));
        }

        statement.Rest.Add(rest);
        return statement;
    }

    private static CapabilityStatement.ResourceComponent ResourceCapability(string type)
    {
        var resource = new CapabilityStatement.ResourceComponent
        {
            Type = type,
            Versioning = CapabilityStatement.ResourceVersionPolicy.VersionedUpdate,
            ReadHistory = true,
            UpdateCreate = true,
            ConditionalCreate = true,
            ConditionalUpdate = true,
            ConditionalRead = CapabilityStatement.ConditionalReadStatus.NotSupported,
            ConditionalDelete = CapabilityStatement.ConditionalDeleteStatus.NotSupported,
            Interaction =
            [
                .. new[]
                {
                    CapabilityStatement.TypeRestfulInteraction.Read,
                    CapabilityStatement.TypeRestfulInteraction.Vread,
                    CapabilityStatement.TypeRestfulInteraction.Update,
                    CapabilityStatement.TypeRestfulInteraction.Delete,
                    CapabilityStatement.TypeRestfulInteraction.HistoryInstance,
                    CapabilityStatement.TypeRestfulInteraction.HistoryType,
                    CapabilityStatement.TypeRestfulInteraction.Create,
                    CapabilityStatement.TypeRestfulInteraction.SearchType,
                }.Select(code => new CapabilityStatement.ResourceInteractionComponent { Code = code }),
            ],
        };
        AddSearchParameters(resource, type);
        resource.Operation.Add(new CapabilityStatement.OperationComponent
        {
            Name = "validate",
            Definition = "http://hl7.org/fhir/OperationDefinition/Resource-validate",
        });
        return resource;
    }

    /// <summary>Every search parameter the indexer supports for the type (from the SDK's R4 definitions), and its _include targets.</summary>
    private static void AddSearchParameters(CapabilityStatement.ResourceComponent resource, string type)
    {
        foreach (var parameter in SearchParameters.Instance.For(type).Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            resource.SearchParam.Add(new CapabilityStatement.SearchParamComponent
            {
                Name = parameter.Name,
                Definition = parameter.Url,
                Type = parameter.Type,
            });
            if (parameter.Type == SearchParamType.Reference)
            {
                resource.SearchIncludeElement.Add(new FhirString($"{type}:{parameter.Name}"));
            }
        }
    }

    /// <summary>System-level search (GET [base]?_type=...) with the Resource-level parameters.</summary>
    private static void AddSystemSearch(CapabilityStatement.RestComponent rest)
    {
        rest.Interaction.Add(new CapabilityStatement.SystemInteractionComponent { Code = CapabilityStatement.SystemRestfulInteraction.SearchSystem });
        foreach (var parameter in SearchParameters.Instance.For("Resource").Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            rest.SearchParam.Add(new CapabilityStatement.SearchParamComponent { Name = parameter.Name, Definition = parameter.Url, Type = parameter.Type });
        }
    }
}
