using System.Net;
using System.Text.Json;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Auth;

/// <summary>
/// The admin role manages clients over HTTP: <c>GET /admin/clients</c>, <c>POST /admin/clients</c> (a registration:
/// id, role, site, scopes, jwks or jwksUrl), <c>DELETE /admin/clients/{id}</c>. The same registry file as
/// <c>fhirgw clients</c>; clients from configuration are listed but can only be changed in configuration.
/// Registrations carry public keys only: the admin API never generates or sees a private key.
/// </summary>
internal static class ClientAdminEndpoints
{
    private static readonly Lock FileLock = new();

    public static void MapClientAdminEndpoints(this WebApplication app, AuthOptions options)
    {
        if (!options.BuiltInServer)
        {
            return;
        }

        var admin = app.MapGroup("/admin/clients");
        admin.MapGet("/", (HttpContext context, ClientRegistry registry) =>
        {
            RequireAdmin(context);
            return Results.Json(registry.All().Select(c => new
            {
                id = c.Client.Id,
                role = c.Client.Role.ToString().ToLowerInvariant(),
                site = c.Client.Site,
                scopes = c.Client.Scopes,
                jwksUrl = c.Client.JwksUrl,
                source = c.Source.ToString().ToLowerInvariant(),
            }));
        });
        admin.MapPost("/", async (HttpContext context, ClientRegistry registry) =>
        {
            RequireAdmin(context);
            ClientRegistration? client;
            try
            {
                client = await JsonSerializer.DeserializeAsync<ClientRegistration>(context.Request.Body, JsonOptions, context.RequestAborted);
            }
            catch (JsonException ex)
            {
                throw FhirException.BadRequest($"The registration is not valid JSON: {ex.Message}");
            }

            if (client is null)
            {
                throw FhirException.BadRequest("The body must be a client registration.");
            }

            try
            {
                client.Validate();
            }
            catch (InvalidOperationException ex)
            {
                throw FhirException.BadRequest(ex.Message);
            }

            lock (FileLock)
            {
                if (registry.Find(client.Id) is not null)
                {
                    throw FhirException.Conflict($"A client '{client.Id}' is already registered.");
                }

                ClientRegistryFile.Save(registry.FilePath, [.. ClientRegistryFile.Load(registry.FilePath), client]);
            }

            return Results.Created($"/admin/clients/{client.Id}", new { id = client.Id });
        });
        admin.MapDelete("/{id}", (string id, HttpContext context, ClientRegistry registry) =>
        {
            RequireAdmin(context);
            lock (FileLock)
            {
                var stored = ClientRegistryFile.Load(registry.FilePath);
                if (stored.All(c => c.Id != id))
                {
                    throw registry.Find(id) is null
                        ? FhirException.NotFound($"No client '{id}' is registered.")
                        : FhirException.Conflict($"Client '{id}' comes from configuration; remove it there.");
                }

                ClientRegistryFile.Save(registry.FilePath, stored.Where(c => c.Id != id));
            }

            return Results.NoContent();
        });
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static void RequireAdmin(HttpContext context)
    {
        if (context.RequireGatewayPrincipal().Role != ClientRole.Admin)
        {
            throw new FhirException(HttpStatusCode.Forbidden, Outcomes.Error(OperationOutcome.IssueType.Forbidden, "Managing clients is for the admin role."));
        }
    }
}
