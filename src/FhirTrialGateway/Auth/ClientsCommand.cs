using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Auth;

/// <summary>
/// <c>fhirgw clients add|list|remove|token</c>: manages the client registry file (clients.json in the data folder,
/// beside the SQLite file; a running gateway picks changes up at once) and, with <c>token</c>, acts as a real SMART
/// Backend Services client: signs an assertion with a private key file and asks a token endpoint for a token.
/// Whoever can run this command on the server is its administrator: the file is the store, guarded by file permissions.
/// </summary>
public static class ClientsCommand
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("clients", "Register and manage SMART Backend Services clients (clients.json in the data folder).");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(Token());
        return command;
    }

    /// <summary>Runs <c>fhirgw clients {args}</c> in process (tests, tools) with the given output and error writers.</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("fhirgw") { Create() };
        return root.Parse(["clients", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    private sealed record Location(Option<string?> DataDir, Option<string?> ClientsFile)
    {
        public static Location Create() => new(
            new Option<string?>("--data-dir") { Description = "The gateway's data folder (default: the folder of Storage:Sqlite:Path, ./data)." },
            new Option<string?>("--clients-file") { Description = "The registry file (default: Auth:ClientsFile, else clients.json in the data folder)." });
    }

    private static Command Add()
    {
        var id = new Option<string>("--id") { Description = "The client id (the assertion's iss and sub).", Required = true };
        var role = new Option<ClientRole>("--role") { Description = "hospital, sponsor (read/search only) or admin.", Required = true };
        var site = new Option<string?>("--site") { Description = "The trial site (required for hospitals)." };
        var scopes = new Option<string[]>("--scope")
        {
            Description = "Allowed scopes, space-separated and/or repeated, e.g. \"system/Observation.cruds system/Patient.rs\".",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var jwks = new Option<string?>("--jwks") { Description = "A file with the client's public JWKS (instead of generating a key pair)." };
        var jwksUrl = new Option<string?>("--jwks-url") { Description = "The client's JWKS URL (https) instead of inline keys." };
        var keyAlg = new Option<string>("--key-alg") { Description = "Algorithm of the generated key pair: ES384 (default) or RS384.", DefaultValueFactory = _ => "ES384" };
        keyAlg.AcceptOnlyFromAmong("ES384", "RS384");
        var privateKey = new Option<string?>("--private-key") { Description = "Where to write the generated private key (default ./{id}.private-key.json)." };
        var location = Location.Create();
        var command = new Command("add", "Register a client; without --jwks or --jwks-url a key pair is generated and its private half written to a file for the site.")
        {
            id, role, site, scopes, jwks, jwksUrl, keyAlg, privateKey, location.DataDir, location.ClientsFile,
        };
        command.SetAction(parse => Run(parse, location, (output, path) =>
        {
            var existing = ClientRegistryFile.Load(path);
            var client = new ClientRegistration
            {
                Id = parse.GetRequiredValue(id),
                Role = parse.GetValue(role),
                Site = parse.GetValue(site),
                Scopes = [.. parse.GetRequiredValue(scopes).SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)],
                JwksUrl = parse.GetValue(jwksUrl),
            };
            if (existing.Any(c => c.Id == client.Id))
            {
                throw new InvalidOperationException($"Client '{client.Id}' is already registered in {path}; remove it first.");
            }

            if (parse.GetValue(jwks) is { } jwksFile)
            {
                client.Jwks = JsonNode.Parse(File.ReadAllText(jwksFile))!.ToJsonString();
            }

            AsymmetricAlgorithmHolder? generated = null;
            if (client.Jwks is null && client.JwksUrl is null)
            {
                var algorithm = parse.GetValue(keyAlg)!;
                generated = new AsymmetricAlgorithmHolder(JwkFiles.Generate(algorithm), algorithm);
                client.Jwks = JwkFiles.ToPublicJwks(generated.Key, algorithm).ToJsonString();
            }

            using (generated)
            {
                client.Validate(); // before anything is written: a sponsor with write scopes is refused here
                string? keyFile = null;
                if (generated is not null)
                {
                    keyFile = Path.GetFullPath(parse.GetValue(privateKey) ?? $"{client.Id}.private-key.json");
                    JwkFiles.WritePrivateKey(keyFile, generated.Key, generated.Algorithm);
                }

                ClientRegistryFile.Save(path, [.. existing, client]);
                output.WriteLine($"Registered client '{client.Id}' ({Describe(client)}) in {path}.");
                if (keyFile is not null)
                {
                    output.WriteLine($"Private key ({generated!.Algorithm}, kid {JwkFiles.Thumbprint(generated.Key)}) written to {keyFile}.");
                    output.WriteLine("Hand it to the site over a secure channel; the gateway keeps only the public key. Delete this copy once delivered.");
                }
            }
        }));
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the registrations as JSON." };
        var location = Location.Create();
        var command = new Command("list", "List registered clients: id, role, site, scopes, key ids (configuration and registry file).")
        {
            json, location.DataDir, location.ClientsFile,
        };
        command.SetAction(parse => Run(parse, location, (output, path) =>
        {
            var configuration = LoadConfiguration();
            var registry = new ClientRegistry(ClientRegistry.FromConfiguration(configuration.GetSection("Auth")), path);
            var all = registry.All();
            if (parse.GetValue(json))
            {
                var array = new JsonArray([.. all.Select(e => (JsonNode)new JsonObject
                {
                    ["id"] = e.Client.Id,
                    ["role"] = e.Client.Role.ToString().ToLowerInvariant(),
                    ["site"] = e.Client.Site,
                    ["scopes"] = new JsonArray([.. e.Client.Scopes.Select(s => (JsonNode)s)]),
                    ["keys"] = new JsonArray([.. KeyIds(e.Client).Select(k => (JsonNode)k)]),
                    ["source"] = e.Source == ClientSource.Configuration ? "configuration" : "file",
                })]);
                output.WriteLine(array.ToJsonString(Pretty));
                return;
            }

            if (all.Count == 0)
            {
                output.WriteLine($"No clients are registered ({path}).");
                return;
            }

            var rows = all.Select(e => new[]
            {
                e.Client.Id, e.Client.Role.ToString().ToLowerInvariant(), e.Client.Site ?? "-", string.Join(' ', e.Client.Scopes),
                string.Join(' ', KeyIds(e.Client)), e.Source == ClientSource.Configuration ? "configuration" : "file",
            }).Prepend(["ID", "ROLE", "SITE", "SCOPES", "KEYS", "SOURCE"]).ToList();
            var widths = Enumerable.Range(0, 6).Select(i => rows.Max(r => r[i].Length)).ToArray();
            foreach (var row in rows)
            {
                output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 5 ? cell : cell.PadRight(widths[i]))).TrimEnd());
            }
        }));
        return command;
    }

    private static Command Remove()
    {
        var id = new Option<string>("--id") { Description = "The client to remove.", Required = true };
        var location = Location.Create();
        var command = new Command("remove", "Remove a client from the registry file (tokens already issued expire within 5 minutes).")
        {
            id, location.DataDir, location.ClientsFile,
        };
        command.SetAction(parse => Run(parse, location, (output, path) =>
        {
            var clientId = parse.GetRequiredValue(id);
            var existing = ClientRegistryFile.Load(path);
            if (!existing.Any(c => c.Id == clientId))
            {
                var configured = ClientRegistry.FromConfiguration(LoadConfiguration().GetSection("Auth")).Any(c => c.Id == clientId);
                throw new InvalidOperationException(configured
                    ? $"Client '{clientId}' is defined in configuration (Auth:Clients), not in {path}; remove it there."
                    : $"No client '{clientId}' is registered in {path}.");
            }

            ClientRegistryFile.Save(path, existing.Where(c => c.Id != clientId));
            output.WriteLine($"Removed client '{clientId}' from {path}. Tokens it already holds expire within 5 minutes.");
        }));
        return command;
    }

    private static Command Token()
    {
        var clientId = new Option<string>("--client-id") { Description = "The registered client id.", Required = true };
        var key = new Option<string>("--key") { Description = "The private key file written by `clients add` (a private JWK with kid and alg).", Required = true };
        var url = new Option<string>("--url") { Description = "The token endpoint, e.g. https://gateway.example.org/auth/token.", Required = true };
        var scope = new Option<string>("--scope") { Description = "The scopes to request, space-separated.", Required = true };
        var assertionOnly = new Option<bool>("--assertion-only") { Description = "Print the signed client assertion instead of requesting a token." };
        var command = new Command("token", "Act as the client: sign an assertion (RS384/ES384, 5-minute exp, fresh jti) and get an access token.")
        {
            clientId, key, url, scope, assertionOnly,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var tokenUrl = parse.GetRequiredValue(url);
                var assertion = BackendServicesToken.CreateAssertion(parse.GetRequiredValue(clientId), parse.GetRequiredValue(key), tokenUrl, TimeProvider.System);
                if (parse.GetValue(assertionOnly))
                {
                    output.WriteLine(assertion);
                    return 0;
                }

                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                var answer = await BackendServicesToken.RequestAsync(http, new Uri(tokenUrl), assertion, parse.GetRequiredValue(scope), cancellationToken);
                var body = answer.Body;
                if (answer.Status is < 200 or > 299)
                {
                    await error.WriteLineAsync($"The token endpoint answered {answer.Status}: {body}");
                    return 1;
                }

                await output.WriteLineAsync(JsonNode.Parse(body)!.ToJsonString(Pretty));
                return 0;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException or JsonException
                or UriFormatException or ArgumentException or TaskCanceledException or System.Security.Cryptography.CryptographicException)
            {
                await error.WriteLineAsync(ex.Message);
                return 1;
            }
        });
        return command;
    }

    private static Task<int> Run(ParseResult parse, Location location, Action<TextWriter, string> action)
    {
        var output = parse.InvocationConfiguration.Output;
        try
        {
            action(output, RegistryPath(parse, location));
            return Task.FromResult(0);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or JsonException or UnauthorizedAccessException
            or System.Security.Cryptography.CryptographicException)
        {
            parse.InvocationConfiguration.Error.WriteLine(ex.Message);
            return Task.FromResult(1);
        }
    }

    private static string RegistryPath(ParseResult parse, Location location)
    {
        if (parse.GetValue(location.ClientsFile) is { Length: > 0 } file)
        {
            return Path.GetFullPath(file);
        }

        if (parse.GetValue(location.DataDir) is { Length: > 0 } directory)
        {
            return Path.GetFullPath(Path.Combine(directory, ClientRegistryFile.DefaultFileName));
        }

        var configuration = LoadConfiguration();
        var options = configuration.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        return options.ClientsFilePath(configuration);
    }

    /// <summary>The configuration the gateway would see for these keys: appsettings.json in the working folder and environment variables.</summary>
    private static IConfiguration LoadConfiguration() => new ConfigurationBuilder()
        .SetBasePath(Directory.GetCurrentDirectory())
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();

    private static IEnumerable<string> KeyIds(ClientRegistration client)
    {
        if (!string.IsNullOrEmpty(client.JwksUrl))
        {
            return [client.JwksUrl];
        }

        try
        {
            return ClientKeys.ParsePublicJwks(client.Jwks ?? "", client.Id).Select(k => $"{k.Kid} ({(string.IsNullOrEmpty(k.Alg) ? k.Kty : k.Alg)})");
        }
        catch (InvalidOperationException)
        {
            return ["(invalid JWKS)"];
        }
    }

    private static string Describe(ClientRegistration client) =>
        $"role {client.Role.ToString().ToLowerInvariant()}{(client.Site is null ? "" : ", site " + client.Site)}, scopes {string.Join(' ', client.Scopes)}";

    private sealed class AsymmetricAlgorithmHolder(System.Security.Cryptography.AsymmetricAlgorithm key, string algorithm) : IDisposable
    {
        public System.Security.Cryptography.AsymmetricAlgorithm Key { get; } = key;

        public string Algorithm { get; } = algorithm;

        public void Dispose() => Key.Dispose();
    }
}
