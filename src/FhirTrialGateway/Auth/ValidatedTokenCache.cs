using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;

namespace FhirTrialGateway.Auth;

/// <summary>
/// Remembers access tokens that JwtBearer has fully validated, until they expire, so that a client calling with the same
/// token again is not re-verified (an RSA or ECDSA signature check and claim parsing on every request cost more than
/// the read itself; measured in docs/benchmarks.md). The key is the token together with the audience and issuer this
/// request expects, so a token is never accepted where it would not have validated. Bounded; entries end at the
/// token's exp.
/// </summary>
internal sealed class ValidatedTokenCache(AuthOptions options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public JwtBearerEvents Events() => new()
    {
        OnMessageReceived = context =>
        {
            if (Key(context.HttpContext) is { } key && _cache.TryGetValue(key, out ClaimsPrincipal? principal) && principal is not null)
            {
                context.Principal = principal;
                context.Success();
            }

            return Task.CompletedTask;
        },
        OnTokenValidated = context =>
        {
            if (Key(context.HttpContext) is { } key && context.Principal is { } principal && context.SecurityToken.ValidTo > DateTime.UtcNow)
            {
                _cache.Set(key, principal, new MemoryCacheEntryOptions { AbsoluteExpiration = context.SecurityToken.ValidTo, Size = 1 });
            }

            return Task.CompletedTask;
        },
    };

    public void Dispose() => _cache.Dispose();

    private string? Key(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7
            ? $"{SmartUrls.Audience(context, options)}|{SmartUrls.Issuer(context, options)}|{header[7..].Trim()}"
            : null;
    }
}
