using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace FhirTrialGateway.Auth;

/// <summary>
/// Remembers access tokens that JwtBearer has fully validated, until they expire, so that a client calling with the same
/// token again is not re-verified (an RSA or ECDSA signature check and claim parsing on every request cost more than
/// the read itself; measured in docs/benchmarks.md). A token is accepted from here only for the audience and issuer it
/// was validated for, so never where it would not have validated. Bounded; entries end at the token's exp.
/// </summary>
/// <remarks>
/// Looked up by the token's characters in the Authorization header, without copying them: a string key built per
/// request (the token, about a kilobyte, with audience and issuer) was a fifth of all bytes a secured read allocated
/// (allocation profile, docs/benchmarks.md, security, sixth session).
/// </remarks>
internal sealed class ValidatedTokenCache
{
    private const int MaxTokens = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _byCharacters;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;

    public ValidatedTokenCache(AuthOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _byCharacters = _tokens.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public JwtBearerEvents Events() => new()
    {
        OnMessageReceived = context =>
        {
            if (Token(context.HttpContext) is { IsEmpty: false } token
                && _byCharacters.TryGetValue(token, out var entry)
                && entry.ValidTo > _time.GetUtcNow()
                && entry.Audience == SmartUrls.Audience(context.HttpContext, _options)
                && entry.Issuer == SmartUrls.Issuer(context.HttpContext, _options))
            {
                context.Principal = entry.Principal;
                context.Success();
            }

            return Task.CompletedTask;
        },
        OnTokenValidated = context =>
        {
            var validTo = new DateTimeOffset(context.SecurityToken.ValidTo, TimeSpan.Zero);
            if (Token(context.HttpContext) is { IsEmpty: false } token && context.Principal is { } principal && validTo > _time.GetUtcNow())
            {
                if (_tokens.Count >= MaxTokens)
                {
                    Prune();
                }

                _tokens[token.ToString()] = new Entry(SmartUrls.Audience(context.HttpContext, _options),
                    SmartUrls.Issuer(context.HttpContext, _options), principal, validTo);
            }

            return Task.CompletedTask;
        },
    };

    /// <summary>The bearer token in the request's Authorization header, as characters of the header (no copy).</summary>
    private static ReadOnlySpan<char> Token(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { Length: > 7 } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return default;
        }

        return value.AsSpan(7).Trim();
    }

    /// <summary>Drops expired tokens; if that leaves the cache full, forgets all (they validate again on next use).</summary>
    private void Prune()
    {
        var now = _time.GetUtcNow();
        foreach (var (token, entry) in _tokens)
        {
            if (entry.ValidTo <= now)
            {
                _tokens.TryRemove(token, out _);
            }
        }

        if (_tokens.Count >= MaxTokens)
        {
            _tokens.Clear();
        }
    }

    private sealed record Entry(string Audience, string Issuer, ClaimsPrincipal Principal, DateTimeOffset ValidTo);
}
