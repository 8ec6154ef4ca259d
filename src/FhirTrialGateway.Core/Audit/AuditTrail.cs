using System.Text;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Audit;

/// <summary>
/// What one request did, collected while it runs and turned into one AuditEvent (type rest, subtype the
/// interaction, action C/R/U/D/E, the client as agent with its network address, the resources touched as entities,
/// the query for searches). A write records it inside the unit of work of its change; everything else is recorded
/// when the request ends.
/// </summary>
public sealed class AuditTrail(string clientId, string? site, string? networkAddress)
{
    private const string InteractionSystem = "http://hl7.org/fhir/restful-interaction";
    private readonly List<string> _entities = [];
    private int _committed;

    public string ClientId { get; } = clientId;

    public string? Site { get; } = site;

    public string? NetworkAddress { get; } = networkAddress;

    /// <summary>The R4 restful-interaction code (read, vread, create, search-type, transaction ...).</summary>
    public string Interaction { get; set; } = "operation";

    public AuditEvent.AuditEventAction Action { get; set; } = AuditEvent.AuditEventAction.E;

    /// <summary>The query of a search (recorded as the entity's query, base64 as R4 asks).</summary>
    public string? Query { get; set; }

    /// <summary>The request path, for requests that touch no resource (e.g. a refused one).</summary>
    public string? Path { get; set; }

    /// <summary>True once the event was written with the change it records (the request's end writes nothing more).</summary>
    public bool IsCommitted => Volatile.Read(ref _committed) == 1;

    /// <summary>A trail for one part of this request that is recorded on its own (a batch entry).</summary>
    public AuditTrail Part(string interaction, AuditEvent.AuditEventAction action) =>
        new(ClientId, Site, NetworkAddress) { Interaction = interaction, Action = action, Path = Path };

    public void Touched(string versionedReference)
    {
        lock (_entities)
        {
            _entities.Add(versionedReference);
        }
    }

    internal void MarkCommitted() => Volatile.Write(ref _committed, 1);

    /// <summary>The versioned references touched so far, in order.</summary>
    internal string[] Entities()
    {
        lock (_entities)
        {
            return [.. _entities];
        }
    }

    internal static AuditEvent.AuditEventOutcome OutcomeOf(int status) => status switch
    {
        < 400 => AuditEvent.AuditEventOutcome.N0,
        < 500 => AuditEvent.AuditEventOutcome.N4,
        _ => AuditEvent.AuditEventOutcome.N8,
    };

    /// <summary>
    /// The AuditEvent for the request's HTTP status. What is stored is written by <see cref="AuditEventJson"/> without
    /// this object; this is the model that JSON is checked against (tests compare it with the SDK's serialization).
    /// </summary>
    public AuditEvent Build(int status, DateTimeOffset recorded)
    {
        var auditEvent = new AuditEvent
        {
            Type = new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"),
            Subtype = [new Coding(InteractionSystem, Interaction)],
            Action = Action,
            Recorded = recorded,
            Outcome = OutcomeOf(status),
            OutcomeDesc = $"HTTP {status}",
            Source = new AuditEvent.SourceComponent
            {
                Observer = new ResourceReference { Display = "FhirTrialGateway" },
                Type = [new Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server")],
            },
        };
        var agent = new AuditEvent.AgentComponent
        {
            Who = new ResourceReference { Identifier = new Identifier("urn:fhirtrialgateway:client", ClientId) },
            Requestor = true,
        };
        if (NetworkAddress is not null)
        {
            agent.Network = new AuditEvent.NetworkComponent { Address = NetworkAddress, Type = AuditEvent.AuditEventAgentNetworkType.N2 };
        }

        if (Site is not null)
        {
            agent.Location = new ResourceReference { Display = $"site {Site}" };
        }

        auditEvent.Agent.Add(agent);
        foreach (var entity in Entities())
        {
            auditEvent.Entity.Add(new AuditEvent.EntityComponent { What = new ResourceReference(entity) });
        }

        if (Query is not null)
        {
            auditEvent.Entity.Add(new AuditEvent.EntityComponent
            {
                Type = new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"),
                Description = Path,
                Query = Encoding.UTF8.GetBytes(Query),
            });
        }
        else if (auditEvent.Entity.Count == 0 && Path is not null)
        {
            auditEvent.Entity.Add(new AuditEvent.EntityComponent { Description = Path });
        }

        return auditEvent;
    }
}
