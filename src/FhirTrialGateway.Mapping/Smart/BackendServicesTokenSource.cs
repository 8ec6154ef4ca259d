namespace FhirTrialGateway.Mapping.Smart;

/// <summary>
/// Access tokens for one SMART Backend Services client, got on first use and renewed shortly before they expire (or
/// when the server refuses one), so a long import never sends an expired token. Thread-safe: concurrent senders
/// share one token and one renewal.
/// </summary>
public sealed class BackendServicesTokenSource : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _fhirBase;
    private readonly string _clientId;
    private readonly string _keyFile;
    private readonly string _scope;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _renewal = new(1, 1);
    private Uri? _tokenUrl;
    private string? _token;
    private DateTimeOffset _renewAt;

    /// <param name="clock">When the token is due for renewal; assertions are always signed with the real time.</param>
    public BackendServicesTokenSource(Uri fhirBase, string clientId, string privateKeyFile, string scope, TimeProvider? clock = null, HttpMessageHandler? handler = null)
    {
        _fhirBase = fhirBase;
        _clientId = clientId;
        _keyFile = privateKeyFile;
        _scope = scope;
        _clock = clock ?? TimeProvider.System;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>How many tokens were requested so far (the first and each renewal).</summary>
    public int Requested { get; private set; }

    /// <summary>A valid token; <paramref name="refused"/> is the token the server just refused (it is then renewed).</summary>
    public async Task<string> GetAsync(string? refused, CancellationToken cancellationToken)
    {
        if (_token is { } current && current != refused && _clock.GetUtcNow() < _renewAt)
        {
            return current;
        }

        await _renewal.WaitAsync(cancellationToken);
        try
        {
            if (_token is { } renewed && renewed != refused && _clock.GetUtcNow() < _renewAt)
            {
                return renewed; // another sender renewed it meanwhile
            }

            _tokenUrl ??= await BackendServicesToken.DiscoverTokenEndpointAsync(_http, _fhirBase, cancellationToken);
            var assertion = BackendServicesToken.CreateAssertion(_clientId, _keyFile, _tokenUrl.ToString(), TimeProvider.System);
            var answer = await BackendServicesToken.RequestAsync(_http, _tokenUrl, assertion, _scope, cancellationToken);
            Requested++;
            if (!answer.IsSuccess)
            {
                throw new InvalidOperationException($"The token endpoint {_tokenUrl} answered {answer.Status}: {answer.Body}");
            }

            // Renewed a fifth of its lifetime before it ends (at most a minute early): clocks and a request in flight fit.
            var lifetime = answer.ExpiresIn;
            _renewAt = _clock.GetUtcNow() + lifetime - TimeSpan.FromTicks(Math.Min(lifetime.Ticks / 5, TimeSpan.FromMinutes(1).Ticks));
            _token = answer.AccessToken;
            return _token!;
        }
        finally
        {
            _renewal.Release();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _renewal.Dispose();
    }
}
