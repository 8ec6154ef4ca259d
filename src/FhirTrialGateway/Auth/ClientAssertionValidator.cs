using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Auth;

/// <summary>An OAuth 2.0 error answer (RFC 6749 §5.2): <c>{"error": ..., "error_description": ...}</c> with its status.</summary>
public sealed class OAuthException(string error, string description, int status = StatusCodes.Status400BadRequest) : Exception(description)
{
    public string Error { get; } = error;

    public int Status { get; } = status;

    public static OAuthException InvalidClient(string description) => new("invalid_client", description, StatusCodes.Status401Unauthorized);

    public static OAuthException InvalidRequest(string description) => new("invalid_request", description);

    public static OAuthException InvalidScope(string description) => new("invalid_scope", description);
}

/// <summary>
/// Checks a SMART Backend Services client assertion (RFC 7523 §3 and SMART "Authenticating to the token endpoint")
/// and answers the registered client it authenticates. Every failure is OAuth <c>invalid_client</c> (401), as SMART
/// requires for errors in the authentication process.
/// <para>
/// Cryptography and JWT handling are Microsoft.IdentityModel's (JsonWebTokenHandler, JsonWebKey, JsonWebKeySet): the
/// library ASP.NET Core's own JwtBearer handler is built on, maintained by Microsoft with security servicing, already
/// in the dependency graph through Microsoft.AspNetCore.Authentication.JwtBearer (no new package), and able to pin
/// the accepted algorithms and keys per call. OpenIddict would bring a full OAuth server and its persistence for one
/// grant type; the rules SMART adds (iss = sub, 5-minute exp, jti replay, kid+alg key choice, jku) are explicit below.
/// </para>
/// </summary>
public sealed class ClientAssertionValidator(
    ClientRegistry registry,
    AssertionReplayCache replay,
    JwksUrlKeys jwksUrls,
    AuthOptions options,
    TimeProvider time,
    ILogger<ClientAssertionValidator> logger)
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>Validates <paramref name="assertion"/> for the token endpoint at <paramref name="tokenUrl"/>; throws <see cref="OAuthException"/>.</summary>
    public async Task<ClientRegistration> ValidateAsync(string assertion, string tokenUrl, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = Handler.ReadJsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            throw Refuse(null, "The client_assertion is not a signed JWT (JWS compact serialisation).");
        }

        if (jwt.IsEncrypted)
        {
            throw Refuse(null, "Encrypted client assertions are not accepted.");
        }

        // alg first: "none", HS*, RS256, PS* ... are refused before any key is looked at.
        var algorithm = jwt.Alg;
        if (string.IsNullOrEmpty(algorithm) || !BackendServicesToken.Algorithms.Contains(algorithm))
        {
            throw Refuse(null, $"The assertion is signed with '{algorithm}'; only RS384 and ES384 are accepted.");
        }

        if (string.IsNullOrEmpty(jwt.Kid))
        {
            throw Refuse(null, "The assertion header has no kid.");
        }

        var issuer = Claim(jwt, JwtRegisteredClaimNames.Iss);
        var subject = Claim(jwt, JwtRegisteredClaimNames.Sub);
        if (string.IsNullOrEmpty(issuer) || string.IsNullOrEmpty(subject))
        {
            throw Refuse(null, "The assertion must carry iss and sub, both the client id.");
        }

        if (issuer != subject)
        {
            throw Refuse(issuer, "The assertion's iss and sub differ; both must be the client id.");
        }

        var client = registry.Find(issuer) ?? throw Refuse(issuer, $"No client '{issuer}' is registered.");

        if (!jwt.Audiences.Contains(tokenUrl, StringComparer.Ordinal))
        {
            throw Refuse(issuer, $"The assertion's aud must be this token endpoint, {tokenUrl}.");
        }

        var now = time.GetUtcNow();
        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var expSeconds))
        {
            throw Refuse(issuer, "The assertion has no exp.");
        }

        var expires = DateTimeOffset.FromUnixTimeSeconds(expSeconds);
        if (expires <= now - options.ClockSkew)
        {
            throw Refuse(issuer, "The assertion has expired.");
        }

        if (expires > now + TimeSpan.FromSeconds(AuthOptions.MaxLifetimeSeconds) + options.ClockSkew)
        {
            throw Refuse(issuer, "The assertion's exp is more than 5 minutes ahead.");
        }

        var jti = Claim(jwt, JwtRegisteredClaimNames.Jti);
        if (string.IsNullOrEmpty(jti) || jti.Length > 256)
        {
            throw Refuse(issuer, "The assertion needs a jti (a unique id, at most 256 characters).");
        }

        // jku: only a URL registered for this client, and the keys are fetched from the registration, never from the header.
        if (jwt.TryGetHeaderValue<string>("jku", out var jku) && jku is not null
            && (string.IsNullOrEmpty(client.JwksUrl) || !string.Equals(jku, client.JwksUrl, StringComparison.Ordinal)))
        {
            throw Refuse(issuer, "The assertion's jku is not the JWKS URL registered for this client.");
        }

        var key = await SelectKeyAsync(client, jwt.Kid, algorithm, cancellationToken);
        var result = await Handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = client.Id,
            ValidAudience = tokenUrl,
            IssuerSigningKey = key,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [algorithm],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.ClockSkew,
            LifetimeValidator = (notBefore, expiresAt, _, _) =>
                expiresAt is { } e && e > now.UtcDateTime - options.ClockSkew && (notBefore is not { } nb || nb <= now.UtcDateTime + options.ClockSkew),
        });
        if (!result.IsValid)
        {
            throw Refuse(issuer, $"The assertion's signature or claims do not verify with key '{jwt.Kid}' ({result.Exception?.GetType().Name}).");
        }

        // Recorded only after the signature verified: nobody else can burn a client's jti values.
        switch (replay.TryRecord(client.Id, jti, expires + options.ClockSkew))
        {
            case ReplayCheck.Replayed:
                throw Refuse(issuer, "This assertion (jti) has been used before.");
            case ReplayCheck.Full:
                logger.LogError("The assertion replay cache is full ({Max} entries); token requests are refused until entries expire", options.MaxRememberedAssertions);
                throw new OAuthException("temporarily_unavailable", "Too many recent token requests; retry in a minute.", StatusCodes.Status503ServiceUnavailable);
        }

        return client;
    }

    private async Task<JsonWebKey> SelectKeyAsync(ClientRegistration client, string kid, string algorithm, CancellationToken cancellationToken)
    {
        IReadOnlyList<JsonWebKey> keys;
        if (!string.IsNullOrEmpty(client.JwksUrl))
        {
            keys = await jwksUrls.GetAsync(client, kid, cancellationToken);
        }
        else
        {
            keys = ClientKeys.ParsePublicJwks(client.Jwks!, client.Id);
        }

        var matching = keys.Where(k => k.Kid == kid && ClientKeys.Fits(k, algorithm)).ToList();
        return matching.Count switch
        {
            1 => matching[0],
            0 => throw Refuse(client.Id, $"No registered key of client '{client.Id}' has kid '{kid}' and fits {algorithm}."),
            _ => throw Refuse(client.Id, $"More than one registered key of client '{client.Id}' matches kid '{kid}' and {algorithm}."),
        };
    }

    private static string? Claim(JsonWebToken jwt, string name) =>
        jwt.TryGetPayloadValue<string>(name, out var value) ? value : null;

    private OAuthException Refuse(string? clientId, string reason)
    {
        logger.LogWarning("Token request refused (invalid_client) for client {ClientId}: {Reason}", clientId ?? "(unknown)", reason);
        return OAuthException.InvalidClient(reason);
    }
}

public enum ReplayCheck
{
    First,
    Replayed,
    Full,
}

/// <summary>
/// The assertion ids (jti) seen per client, each kept until its assertion expires (at most 5 minutes plus the clock
/// skew), so a replay within the assertion's lifetime is refused. In memory: right for one gateway instance; several
/// instances behind a load balancer need a shared store (the SQLite file or a cache) instead. Bounded: past
/// <c>capacity</c> live entries the gateway refuses new assertions (fail closed) rather than forget live ones.
/// </summary>
public sealed class AssertionReplayCache(int capacity, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Client, string Jti), DateTimeOffset> _seen = new();

    public int Count => _seen.Count;

    public ReplayCheck TryRecord(string clientId, string jti, DateTimeOffset keepUntil)
    {
        var now = time.GetUtcNow();
        if (_seen.Count >= capacity)
        {
            Purge(now);
            if (_seen.Count >= capacity)
            {
                return ReplayCheck.Full;
            }
        }

        var key = (clientId, jti);
        if (_seen.TryAdd(key, keepUntil))
        {
            return ReplayCheck.First;
        }

        // Seen: a replay while the earlier entry is live; an expired entry may be replaced (its assertion is dead).
        if (_seen.TryGetValue(key, out var until) && until <= now && _seen.TryUpdate(key, keepUntil, until))
        {
            return ReplayCheck.First;
        }

        return ReplayCheck.Replayed;
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (key, until) in _seen)
        {
            if (until <= now)
            {
                _seen.TryRemove(new KeyValuePair<(string, string), DateTimeOffset>(key, until));
            }
        }
    }
}

/// <summary>
/// Keys of clients registered with a JWKS URL: fetched from that registered URL only (never a URL from a token),
/// without redirects, size-limited, cached for 10 minutes and refreshed at most every 30 seconds on an unknown kid.
/// </summary>
public sealed class JwksUrlKeys : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinRefresh = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10), MaxResponseContentBufferSize = 256 * 1024 };
    private readonly ConcurrentDictionary<string, (DateTimeOffset Fetched, IReadOnlyList<JsonWebKey> Keys)> _cache = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger<JwksUrlKeys> _logger;

    public JwksUrlKeys(TimeProvider time, ILogger<JwksUrlKeys> logger)
    {
        _time = time;
        _logger = logger;
    }

    public async Task<IReadOnlyList<JsonWebKey>> GetAsync(ClientRegistration client, string kid, CancellationToken cancellationToken)
    {
        var url = client.JwksUrl!;
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(url, out var cached)
            && (now - cached.Fetched < MinRefresh || (now - cached.Fetched < CacheFor && cached.Keys.Any(k => k.Kid == kid))))
        {
            return cached.Keys;
        }

        try
        {
            var json = await _http.GetStringAsync(new Uri(url), cancellationToken);
            var keys = ClientKeys.ParsePublicJwks(json, client.Id);
            _cache[url] = (now, keys);
            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            _logger.LogWarning("The JWKS of client {ClientId} could not be fetched from {Url}: {Problem}", client.Id, url, ex.Message);
            return cached.Keys ?? [];
        }
    }

    public void Dispose() => _http.Dispose();
}
