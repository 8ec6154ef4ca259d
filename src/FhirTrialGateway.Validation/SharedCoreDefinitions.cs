using System.Collections.Concurrent;
using Firely.Fhir.Validation;
using Firely.Fhir.Validation.Compilation;
using Hl7.Fhir.Specification.Source;

namespace FhirTrialGateway.Validation;

/// <summary>
/// The R4 core definitions and their compiled schemas, shared by several validators in one process. A validator
/// normally compiles core types itself (seconds per type on first use); tools that build many validators over
/// different packages, such as the outside test-suite runner, share this instead. Core schemas do not depend on
/// any package, so sharing them is safe as long as no package redefines a core canonical.
/// </summary>
internal sealed class SharedCoreDefinitions
{
    private const string CoreBase = "http://hl7.org/fhir/StructureDefinition/";

    public ZipSource Zip { get; } = ZipSource.CreateValidationSource();

    private readonly ConcurrentDictionary<Canonical, ElementSchema> _schemas = new();

    /// <summary>A schema resolver for one validator: its own for package profiles, the shared cache for core types.</summary>
    // The compiler is marked experimental by Firely; it is the one Validator uses internally, and only tools use this.
#pragma warning disable ExperimentalApi
    internal IElementSchemaResolver SchemaResolverFor(CachedResolver resolver) =>
        new CoreSharingResolver(StructureDefinitionToElementSchemaResolver.CreatedCached(resolver), _schemas);
#pragma warning restore ExperimentalApi

    private sealed class CoreSharingResolver(IElementSchemaResolver own, ConcurrentDictionary<Canonical, ElementSchema> core)
        : IElementSchemaResolver
    {
        public ElementSchema? GetSchema(Canonical schemaUri)
        {
            if (!schemaUri.ToString().StartsWith(CoreBase, StringComparison.Ordinal))
            {
                return own.GetSchema(schemaUri);
            }

            if (core.TryGetValue(schemaUri, out var schema))
            {
                return schema;
            }

            schema = own.GetSchema(schemaUri);
            if (schema is not null)
            {
                core.TryAdd(schemaUri, schema);
            }

            return schema;
        }
    }
}
