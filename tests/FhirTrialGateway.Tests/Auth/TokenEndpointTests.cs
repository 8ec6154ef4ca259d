using System.Net;
using System.Text.Json;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using FhirTrialGateway.Mapping.Smart;

namespace FhirTrialGateway.Tests.Auth;

/// <summary>
/// The built-in SMART Backend Services token endpoint over real HTTP: every rejection rule with a real signed JWT,
/// the happy path with ES384 and RS384, and the API accepting only the gateway's own, unexpired, untampered tokens.
/// </summary>
public sealed class TokenEndpointTests : GatewayTest
{
    private static readonly TestClientKey Es = TestClientKey.Es384();
    private static readonly TestClientKey Rs = TestClientKey.Rs384();
    private static readonly TestClientKey Stranger = TestClientKey.Es384();

    protected override string[] Settings =>
    [
        "Auth:Enabled=true",
        "RateLimit:TokenPermitsPerMinute=10000",
        "Auth:Clients:0:Id=site-a-ehr", "Auth:Clients:0:Role=hospital", "Auth:Clients:0:Site=SITE-A",
        "Auth:Clients:0:Scopes:0=system/Patient.cruds", "Auth:Clients:0:Scopes:1=system/Observation.cruds", $"Auth:Clients:0:Jwks={Es.PublicJwks}",
        "Auth:Clients:1:Id=site-b-ehr", "Auth:Clients:1:Role=hospital", "Auth:Clients:1:Site=SITE-B",
        "Auth:Clients:1:Scopes:0=system/*.read", $"Auth:Clients:1:Jwks={Rs.PublicJwks}",
        "Auth:Clients:2:Id=sponsor", "Auth:Clients:2:Role=sponsor",
        "Auth:Clients:2:Scopes:0=system/*.rs", $"Auth:Clients:2:Jwks={Stranger.PublicJwks}",
        "Auth:Clients:3:Id=remote-keys", "Auth:Clients:3:Role=hospital", "Auth:Clients:3:Site=SITE-C",
        "Auth:Clients:3:Scopes:0=system/*.rs", "Auth:Clients:3:JwksUrl=https://keys.site-c.example/jwks.json",
    ];

    private string TokenUrl => new Uri(Gateway.BaseUri, "auth/token").ToString();

    private AssertionSpec For(string clientId) => new() { ClientId = clientId, Audience = TokenUrl };

    private Task<(int Status, JsonElement Body)> Post(string assertion, string scope = "system/Patient.rs") =>
        TokenRequests.PostAsync(Http, TokenRequests.Form(assertion, scope));

    private async Task ExpectInvalidClient(string assertion, string because, string reason)
    {
        var (status, body) = await Post(assertion);
        status.Should().Be(401, because);
        body.GetProperty("error").GetString().Should().Be("invalid_client", because);
        body.GetProperty("error_description").GetString().Should().Contain(reason, because);
    }

    [Fact]
    public async Task Es384_client_gets_a_five_minute_token_and_reads_the_api_with_it()
    {
        var (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "system/Patient.rs system/Observation.cruds");
        status.Should().Be(200, body.ToString());
        body.GetProperty("token_type").GetString().Should().Be("bearer");
        body.GetProperty("expires_in").GetInt32().Should().BeInRange(1, 300);
        body.GetProperty("scope").GetString().Should().Be("system/Patient.rs system/Observation.cruds");
        body.TryGetProperty("refresh_token", out _).Should().BeFalse();

        var token = body.GetProperty("access_token").GetString()!;
        var jwt = new JsonWebToken(token);
        jwt.Alg.Should().Be("RS256");
        jwt.Typ.Should().Be("at+jwt");
        jwt.Issuer.Should().Be(new Uri(Gateway.BaseUri, "auth").ToString());
        jwt.Audiences.Should().Equal(Gateway.FhirBase);
        jwt.Subject.Should().Be("site-a-ehr");
        jwt.GetClaim("client_id").Value.Should().Be("site-a-ehr");
        jwt.GetClaim("role").Value.Should().Be("hospital");
        jwt.GetClaim("site").Value.Should().Be("SITE-A");
        jwt.GetClaim("scope").Value.Should().Be("system/Patient.rs system/Observation.cruds");
        jwt.Id.Should().NotBeNullOrEmpty();
        (jwt.ValidTo - jwt.IssuedAt).Should().BeLessThanOrEqualTo(TimeSpan.FromMinutes(5));

        var read = await Http.SendAsync(TokenRequests.Get("fhir/Patient", token));
        read.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rs384_client_with_v1_scopes_gets_a_token_and_reads_the_api_with_it()
    {
        var (status, body) = await Post(For("site-b-ehr").Sign(Rs.SecurityKey, Rs.Algorithm), "system/Patient.read");
        status.Should().Be(200, body.ToString());
        body.GetProperty("scope").GetString().Should().Be("system/Patient.read");
        var token = body.GetProperty("access_token").GetString()!;
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", token))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Tampered_expired_foreign_and_absent_tokens_get_401()
    {
        var (_, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm));
        var token = body.GetProperty("access_token").GetString()!;
        var parts = token.Split('.');

        // Tampered payload (the scope widened), original signature.
        var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1])).RootElement;
        var widened = payload.GetRawText().Replace("system/Patient.rs", "system/*.cruds", StringComparison.Ordinal);
        var tampered = parts[0] + "." + Base64UrlEncoder.Encode(widened) + "." + parts[2];
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", tampered))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        // Signed by the gateway's own key but expired: refused; the same token unexpired is accepted (the check is the expiry).
        var (key, algorithm) = PrivateKeyFile.Read(Path.Combine(Gateway.Directory, GatewaySigningKey.DefaultFileName));
        string Mint(DateTime expires) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = new Uri(Gateway.BaseUri, "auth").ToString(),
            Audience = Gateway.FhirBase,
            IssuedAt = expires.AddMinutes(-5),
            NotBefore = expires.AddMinutes(-5),
            Expires = expires,
            TokenType = AccessTokenIssuer.TokenType,
            Claims = new Dictionary<string, object> { ["client_id"] = "site-a-ehr", ["sub"] = "site-a-ehr", ["role"] = "hospital", ["scope"] = "system/Patient.rs" },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", Mint(DateTime.UtcNow.AddMinutes(-2))))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", Mint(DateTime.UtcNow.AddMinutes(2))))).StatusCode.Should().Be(HttpStatusCode.OK);

        // A client assertion is not an access token (wrong issuer, audience, key and type).
        var assertion = For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm);
        (await Http.SendAsync(TokenRequests.Get("fhir/Patient", assertion))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        (await Http.GetAsync("fhir/Patient")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refuses_an_unknown_client() =>
        await ExpectInvalidClient(For("nobody").Sign(Es.SecurityKey, Es.Algorithm), "the client is not registered", "is registered");

    [Fact]
    public async Task Refuses_a_wrong_iss() =>
        await ExpectInvalidClient((For("site-b-ehr") with { Subject = "site-b-ehr" }).Sign(Es.SecurityKey, Es.Algorithm),
            "iss names a client whose keys did not sign (the kid is not registered for site-b-ehr)", "has kid");

    [Fact]
    public async Task Refuses_iss_different_from_sub() =>
        await ExpectInvalidClient((For("site-a-ehr") with { Subject = "site-b-ehr" }).Sign(Es.SecurityKey, Es.Algorithm), "iss must equal sub", "iss and sub differ");

    [Fact]
    public async Task Refuses_a_wrong_audience()
    {
        await ExpectInvalidClient((For("site-a-ehr") with { Audience = "https://other.example/auth/token" }).Sign(Es.SecurityKey, Es.Algorithm), "aud is another server", "aud must be this token endpoint");
        await ExpectInvalidClient((For("site-a-ehr") with { Audience = Gateway.FhirBase }).Sign(Es.SecurityKey, Es.Algorithm), "aud is the FHIR base, not the token URL", "aud must be this token endpoint");
    }

    [Fact]
    public async Task Refuses_an_expired_assertion() =>
        await ExpectInvalidClient((For("site-a-ehr") with { Expires = DateTimeOffset.UtcNow.AddMinutes(-2) }).Sign(Es.SecurityKey, Es.Algorithm), "exp is past", "expired");

    [Fact]
    public async Task Refuses_an_assertion_valid_for_more_than_five_minutes() =>
        await ExpectInvalidClient((For("site-a-ehr") with { Expires = DateTimeOffset.UtcNow.AddMinutes(10) }).Sign(Es.SecurityKey, Es.Algorithm), "exp is 10 minutes ahead", "more than 5 minutes ahead");

    [Fact]
    public async Task Refuses_an_assertion_without_exp() =>
        await ExpectInvalidClient((For("site-a-ehr") with { Expires = null }).Sign(Es.SecurityKey, Es.Algorithm), "exp is required", "no exp");

    [Fact]
    public async Task Refuses_an_assertion_without_jti() =>
        await ExpectInvalidClient((For("site-a-ehr") with { Jti = null }).Sign(Es.SecurityKey, Es.Algorithm), "jti is required", "needs a jti");

    [Fact]
    public async Task Refuses_a_replayed_jti_but_accepts_a_fresh_one()
    {
        var assertion = For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm);
        (await Post(assertion)).Status.Should().Be(200);
        await ExpectInvalidClient(assertion, "the same assertion replayed", "used before");

        var sameJti = For("site-a-ehr") with { Jti = new JsonWebToken(assertion).Id };
        await ExpectInvalidClient(sameJti.Sign(Es.SecurityKey, Es.Algorithm), "a new assertion reusing a seen jti", "used before");

        (await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm))).Status.Should().Be(200);
    }

    [Fact]
    public async Task Refuses_an_unknown_kid()
    {
        var other = TestClientKey.Es384();
        await ExpectInvalidClient(For("site-a-ehr").Sign(other.SecurityKey, other.Algorithm), "the kid is not registered for this client", "has kid");
    }

    [Fact]
    public async Task Refuses_a_bad_signature()
    {
        // Signed by another key carrying the registered kid.
        var impostor = TestClientKey.Es384();
        var key = new ECDsaSecurityKey(((ECDsaSecurityKey)impostor.SecurityKey).ECDsa) { KeyId = Es.Kid };
        await ExpectInvalidClient(For("site-a-ehr").Sign(key, SecurityAlgorithms.EcdsaSha384), "the signature is not the registered key's", "do not verify");

        // A valid assertion with its signature altered.
        var valid = For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm);
        var flipped = valid[..^4] + (valid[^4] == 'A' ? 'B' : 'A') + valid[^3..];
        await ExpectInvalidClient(flipped, "the signature bytes were altered", "do not verify");
    }

    [Fact]
    public async Task Refuses_algorithms_other_than_RS384_and_ES384()
    {
        await ExpectInvalidClient(For("site-b-ehr").Sign(new RsaSecurityKey(((RsaSecurityKey)Rs.SecurityKey).Rsa) { KeyId = Rs.Kid }, SecurityAlgorithms.RsaSha256), "RS256", "only RS384 and ES384");
        var hmac = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(Rs.PublicJwks.PadRight(64, 'x'))) { KeyId = Rs.Kid };
        await ExpectInvalidClient(For("site-b-ehr").Sign(hmac, SecurityAlgorithms.HmacSha256), "HS256 with the public key as secret", "only RS384 and ES384");
        await ExpectInvalidClient(For("site-b-ehr").WithoutSignature(Rs.Kid), "alg none", "only RS384 and ES384");
        await ExpectInvalidClient(For("site-b-ehr").Sign(new RsaSecurityKey(((RsaSecurityKey)Rs.SecurityKey).Rsa) { KeyId = Rs.Kid }, SecurityAlgorithms.RsaSsaPssSha384), "PS384", "only RS384 and ES384");
    }

    [Fact]
    public async Task Refuses_a_kid_whose_key_does_not_fit_the_alg()
    {
        // site-a-ehr's kid is an EC P-384 key: an RS384 header with that kid matches no key.
        var rsaWithEcKid = new RsaSecurityKey(((RsaSecurityKey)Rs.SecurityKey).Rsa) { KeyId = Es.Kid };
        await ExpectInvalidClient(For("site-a-ehr").Sign(rsaWithEcKid, SecurityAlgorithms.RsaSha384), "no registered key with that kid fits RS384", "fits RS384");
    }

    [Fact]
    public async Task Refuses_an_unregistered_jku()
    {
        var spec = For("site-a-ehr") with { ExtraHeader = new() { ["jku"] = "https://attacker.example/jwks.json" } };
        await ExpectInvalidClient(spec.Sign(Es.SecurityKey, Es.Algorithm), "a client with inline keys has no jku", "jku");

        var remote = For("remote-keys") with { ExtraHeader = new() { ["jku"] = "https://attacker.example/jwks.json" } };
        await ExpectInvalidClient(remote.Sign(Es.SecurityKey, Es.Algorithm), "the jku is not the registered JWKS URL (and is never fetched)", "jku");
    }

    [Fact]
    public async Task Refuses_garbage_and_missing_assertions()
    {
        await ExpectInvalidClient("not-a-jwt", "not a JWT", "not a signed JWT");
        var (status, body) = await TokenRequests.PostAsync(Http, TokenRequests.Form(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "system/Patient.rs",
            assertionType: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"));
        status.Should().Be(401);
        body.GetProperty("error").GetString().Should().Be("invalid_client");
    }

    [Fact]
    public async Task Refuses_unsupported_grant_types_and_malformed_requests()
    {
        var assertion = For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm);
        var (status, body) = await TokenRequests.PostAsync(Http, TokenRequests.Form(assertion, "system/Patient.rs", grantType: "authorization_code"));
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("unsupported_grant_type");

        (status, body) = await TokenRequests.PostAsync(Http, new StringContent("{\"grant_type\":\"client_credentials\"}", System.Text.Encoding.UTF8, "application/json"));
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_request");

        (status, body) = await TokenRequests.PostAsync(Http, new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("grant_type", "client_credentials")]));
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_request");

        (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "");
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_request");
    }

    [Fact]
    public async Task Scope_beyond_the_registration_is_dropped_and_nothing_registered_is_invalid_scope()
    {
        // Partly registered: the server grants fewer (SMART allows it) and says so in "scope".
        var (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "system/Patient.rs system/AdverseEvent.cruds system/*.rs");
        status.Should().Be(200, body.ToString());
        body.GetProperty("scope").GetString().Should().Be("system/Patient.rs system/Observation.rs");

        (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "system/AdverseEvent.cruds");
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_scope");

        (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "system/Patient.rs patient/Patient.read");
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_scope");

        (status, body) = await Post(For("site-a-ehr").Sign(Es.SecurityKey, Es.Algorithm), "openid system/Patient.rs");
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_scope");
    }

    [Fact]
    public async Task Sponsor_gets_read_and_search_only_and_no_site()
    {
        var (status, body) = await Post(For("sponsor").Sign(Stranger.SecurityKey, Stranger.Algorithm), "system/Observation.cruds");
        status.Should().Be(200, body.ToString());
        body.GetProperty("scope").GetString().Should().Be("system/Observation.rs");
        var jwt = new JsonWebToken(body.GetProperty("access_token").GetString()!);
        jwt.GetClaim("role").Value.Should().Be("sponsor");
        jwt.TryGetClaim("site", out _).Should().BeFalse();

        (status, body) = await Post(For("sponsor").Sign(Stranger.SecurityKey, Stranger.Algorithm), "system/Observation.cud");
        status.Should().Be(400);
        body.GetProperty("error").GetString().Should().Be("invalid_scope");
    }

    [Fact]
    public async Task Discovery_document_is_anonymous_json_whatever_the_accept_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fhir/.well-known/smart-configuration");
        request.Headers.Accept.ParseAdd("application/fhir+xml");
        var response = await Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        document.GetProperty("token_endpoint").GetString().Should().Be(TokenUrl);
        document.GetProperty("issuer").GetString().Should().Be(new Uri(Gateway.BaseUri, "auth").ToString());
        Strings(document, "grant_types_supported").Should().Equal("client_credentials");
        Strings(document, "token_endpoint_auth_methods_supported").Should().Equal("private_key_jwt");
        Strings(document, "token_endpoint_auth_signing_alg_values_supported").Should().BeEquivalentTo("RS384", "ES384");
        Strings(document, "capabilities").Should().BeEquivalentTo("client-confidential-asymmetric", "permission-v2", "permission-v1");
        Strings(document, "scopes_supported").Should().Contain("system/*.rs").And.Contain("system/*.read");

        var jwks = JsonDocument.Parse(await Http.GetStringAsync(new Uri(document.GetProperty("jwks_uri").GetString()!))).RootElement;
        var key = jwks.GetProperty("keys")[0];
        key.GetProperty("kty").GetString().Should().Be("RSA");
        key.TryGetProperty("d", out _).Should().BeFalse("the public JWKS never carries the private key");
    }

    private static IEnumerable<string> Strings(JsonElement document, string name) =>
        document.GetProperty(name).EnumerateArray().Select(e => e.GetString()!);
}

/// <summary>Item 7: the token endpoint answers 429 with Retry-After past its per-address limit.</summary>
public sealed class TokenRateLimitTests : GatewayTest
{
    protected override string[] Settings => ["Auth:Enabled=true", "RateLimit:TokenPermitsPerMinute=2"];

    [Fact]
    public async Task Third_token_request_in_a_minute_gets_429_with_retry_after()
    {
        var form = () => TokenRequests.Form("x", "system/*.rs");
        (await Http.PostAsync("auth/token", form())).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await Http.PostAsync("auth/token", form())).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var limited = await Http.PostAsync("auth/token", form());
        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter.Should().NotBeNull();
        limited.Headers.RetryAfter!.Delta.Should().BePositive();
    }
}

/// <summary>Development mode stays as it was: no token needed, no token endpoint.</summary>
public sealed class DevelopmentModeAuthTests : GatewayTest
{
    [Fact]
    public async Task Api_answers_without_a_token_and_no_token_endpoint_exists()
    {
        (await Http.GetAsync("fhir/Patient")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Http.PostAsync("auth/token", TokenRequests.Form("x", "system/*.rs"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
