using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FhirTrialGateway.Auth;

/// <summary>Where a registration comes from: configuration (read-only here) or the registry file (managed by `fhirgw clients`).</summary>
public enum ClientSource
{
    Configuration,
    RegistryFile,
}

/// <summary>
/// The registered clients: those in configuration (<c>Auth:Clients</c>) and those in the registry file
/// (<c>clients.json</c> in the data folder, managed with <c>fhirgw clients add|list|remove</c>). The file is the store
/// for now: one JSON document, written atomically (temp file + rename, owner-only permissions on Unix), re-read when it
/// changes so a client added while the gateway runs can get a token at once. An id in configuration wins over the file.
/// </summary>
public sealed class ClientRegistry
{
    private readonly IReadOnlyDictionary<string, ClientRegistration> _configured;
    private readonly ILogger? _logger;
    private readonly Lock _gate = new();
    private (DateTime WrittenUtc, long Length) _fileStamp = (DateTime.MinValue, -1);
    private IReadOnlyDictionary<string, ClientRegistration> _fromFile = new Dictionary<string, ClientRegistration>();

    public ClientRegistry(IEnumerable<ClientRegistration> configured, string filePath, ILogger? logger = null)
    {
        FilePath = Path.GetFullPath(filePath);
        _logger = logger;
        var map = new Dictionary<string, ClientRegistration>(StringComparer.Ordinal);
        foreach (var client in configured)
        {
            client.Validate();
            if (!map.TryAdd(client.Id, client))
            {
                throw new InvalidOperationException($"Client '{client.Id}' is configured twice in Auth:Clients.");
            }
        }

        _configured = map;
        Refresh();
    }

    public string FilePath { get; }

    /// <summary>The registration for <paramref name="clientId"/>, or null when none is registered.</summary>
    public ClientRegistration? Find(string clientId)
    {
        if (_configured.TryGetValue(clientId, out var configured))
        {
            return configured;
        }

        Refresh();
        return _fromFile.GetValueOrDefault(clientId);
    }

    /// <summary>Every registration with its source, ordered by id.</summary>
    public IReadOnlyList<(ClientRegistration Client, ClientSource Source)> All()
    {
        Refresh();
        return [.. _configured.Values.Select(c => (c, ClientSource.Configuration))
            .Concat(_fromFile.Values.Where(c => !_configured.ContainsKey(c.Id)).Select(c => (c, ClientSource.RegistryFile)))
            .OrderBy(e => e.Item1.Id, StringComparer.Ordinal)];
    }

    private void Refresh()
    {
        var info = new FileInfo(FilePath);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (stamp == _fileStamp)
        {
            return;
        }

        lock (_gate)
        {
            if (stamp == _fileStamp)
            {
                return;
            }

            var map = new Dictionary<string, ClientRegistration>(StringComparer.Ordinal);
            try
            {
                foreach (var client in ClientRegistryFile.Load(FilePath))
                {
                    try
                    {
                        client.Validate();
                        if (_configured.ContainsKey(client.Id))
                        {
                            _logger?.LogWarning("Client {ClientId} is in both configuration and {File}; the configuration wins", client.Id, FilePath);
                        }

                        map[client.Id] = client;
                    }
                    catch (InvalidOperationException ex)
                    {
                        _logger?.LogError("Ignoring client {ClientId} in {File}: {Problem}", client.Id, FilePath, ex.Message);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or InvalidOperationException)
            {
                // Keep the last good registrations; a half-edited file must not lock every site out (or let anyone in).
                _logger?.LogError("The client registry {File} cannot be read ({Problem}); keeping the previous registrations", FilePath, ex.Message);
                return;
            }

            _fromFile = map;
            _fileStamp = stamp;
        }
    }

    /// <summary>Binds <c>Auth:Clients</c>; a JWKS given as a JSON object in appsettings.json is turned back into JSON text.</summary>
    public static List<ClientRegistration> FromConfiguration(IConfiguration auth)
    {
        var clients = new List<ClientRegistration>();
        foreach (var section in auth.GetSection("Clients").GetChildren())
        {
            var client = section.Get<ClientRegistration>() ?? new ClientRegistration();
            var jwks = section.GetSection("Jwks");
            if (jwks.GetChildren().Any())
            {
                client.Jwks = SectionToJson(jwks)?.ToJsonString();
            }

            clients.Add(client);
        }

        return clients;
    }

    private static JsonNode? SectionToJson(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section.Value is null ? null : JsonValue.Create(section.Value);
        }

        if (children.All(c => int.TryParse(c.Key, out _)))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture)))
            {
                array.Add(SectionToJson(child));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[child.Key] = SectionToJson(child);
        }

        return obj;
    }
}

/// <summary>The registry file: <c>{"clients":[{"id":..,"role":"hospital","site":..,"scopes":[..],"jwks":{"keys":[..]}}]}</c>.</summary>
public static class ClientRegistryFile
{
    public const string DefaultFileName = "clients.json";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static List<ClientRegistration> Load(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var document = JsonSerializer.Deserialize<RegistryDocument>(stream, Json)
            ?? throw new InvalidOperationException($"{path} is empty.");
        return document.Clients;
    }

    /// <summary>Writes atomically: a reader sees the old file or the new one, never half of it.</summary>
    public static void Save(string path, IEnumerable<ClientRegistration> clients)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new RegistryDocument { Clients = [.. clients.OrderBy(c => c.Id, StringComparer.Ordinal)] }, Json);
        SecretFiles.WriteAllBytes(temporary, bytes, ownerOnly: true);
        File.Move(temporary, full, overwrite: true);
    }

    private sealed class RegistryDocument
    {
        public List<ClientRegistration> Clients { get; set; } = [];
    }
}

/// <summary>Writes files that hold keys or registrations: owner read/write only on Unix.</summary>
internal static class SecretFiles
{
    public static void WriteAllBytes(string path, byte[] bytes, bool ownerOnly)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
    }
}
