using System.Net;
using System.Security.Claims;
using FhirTrialGateway.Auth;
using FhirTrialGateway.Core.Fhir;

namespace FhirTrialGateway.Tests.Auth;

public sealed class SmartScopeTests
{
    [Theory]
    // SMART v2
    [InlineData("system/Observation.cruds", "Observation", "cruds")]
    [InlineData("system/Observation.rs", "Observation", "rs")]
    [InlineData("system/Observation.cud", "Observation", "cud")]
    [InlineData("system/Observation.c", "Observation", "c")]
    [InlineData("system/Observation.s", "Observation", "s")]
    [InlineData("system/Patient.ruds", "Patient", "ruds")]
    [InlineData("system/*.rs", "*", "rs")]
    [InlineData("system/*.cruds", "*", "cruds")]
    // SMART v1
    [InlineData("system/Observation.read", "Observation", "rs")]
    [InlineData("system/Observation.write", "Observation", "cud")]
    [InlineData("system/Observation.*", "Observation", "cruds")]
    [InlineData("system/*.read", "*", "rs")]
    [InlineData("system/*.*", "*", "cruds")]
    public void Valid_scopes_parse_to_a_type_and_permissions(string text, string type, string letters)
    {
        var scope = SmartScope.Parse(text);
        scope.ResourceType.Should().Be(type);
        SmartScope.Letters(scope.Interactions).Should().Be(letters);
        scope.Text.Should().Be(text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("openid")]
    [InlineData("offline_access")]
    [InlineData("system/Observation")]
    [InlineData("system/Observation.")]
    [InlineData("system/.rs")]
    [InlineData("patient/Observation.rs")]
    [InlineData("user/Observation.read")]
    [InlineData("system/Observation.sr")]      // v2 letters out of order
    [InlineData("system/Observation.rrs")]     // repeated
    [InlineData("system/Observation.x")]
    [InlineData("system/Observation.crudsx")]
    [InlineData("system/Observation.READ")]
    [InlineData("system/observation.rs")]      // types are case-sensitive
    [InlineData("system/NotAType.rs")]
    [InlineData("system/Observation.rs?category=laboratory")] // granular: refused, never widened
    [InlineData("System/Observation.rs")]
    public void Malformed_scopes_are_refused(string text)
    {
        SmartScope.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().NotBeNullOrEmpty();
        var parse = () => SmartScopeSet.Parse(text == "" ? "x" : text);
        parse.Should().Throw<SmartScopeException>();
    }

    [Theory]
    [InlineData("system/Observation.rs", "Observation", Interaction.Read, true)]
    [InlineData("system/Observation.rs", "Observation", Interaction.Search, true)]
    [InlineData("system/Observation.rs", "Observation", Interaction.Create, false)]
    [InlineData("system/Observation.rs", "Patient", Interaction.Read, false)]
    [InlineData("system/Observation.cud", "Observation", Interaction.Update, true)]
    [InlineData("system/Observation.cud", "Observation", Interaction.Read, false)]
    [InlineData("system/Observation.read", "Observation", Interaction.Search, true)]
    [InlineData("system/Observation.read", "Observation", Interaction.Delete, false)]
    [InlineData("system/Observation.write", "Observation", Interaction.Delete, true)]
    [InlineData("system/Observation.write", "Observation", Interaction.Read, false)]
    [InlineData("system/*.rs", "AdverseEvent", Interaction.Read, true)]
    [InlineData("system/*.rs", "AdverseEvent", Interaction.Update, false)]
    [InlineData("system/*.*", "Patient", Interaction.Delete, true)]
    [InlineData("system/Patient.r system/Patient.s", "Patient", Interaction.Read | Interaction.Search, true)]
    [InlineData("system/Patient.r", "Patient", Interaction.Read | Interaction.Search, false)]
    [InlineData("system/Patient.cruds", "Patient", Interaction.None, false)]
    public void Allows_answers_per_type_and_interaction(string scopes, string type, Interaction interaction, bool allowed) =>
        SmartScopeSet.Parse(scopes).Allows(type, interaction).Should().Be(allowed);

    [Theory]
    [InlineData("system/Observation.cruds", "system/Observation.rs", "system/Observation.rs")]
    [InlineData("system/Observation.rs", "system/Observation.cruds", "system/Observation.rs")]
    [InlineData("system/Observation.read", "system/Observation.read", "system/Observation.read")]  // v1 stays v1
    [InlineData("system/Observation.rs", "system/Observation.*", "system/Observation.rs")]
    [InlineData("system/*.rs", "system/Observation.cruds", "system/Observation.rs")]
    [InlineData("system/*.cruds", "system/*.rs", "system/*.rs")]
    [InlineData("system/Observation.rs system/Patient.r", "system/*.rs", "system/Observation.rs system/Patient.r")]
    [InlineData("system/Observation.rs", "system/Patient.rs", "")]
    [InlineData("system/Observation.rs", "system/Observation.cud", "")]
    [InlineData("system/*.rs system/Observation.c", "system/*.cruds", "system/*.rs system/Observation.c")]
    public void Intersect_grants_only_what_is_registered(string registered, string requested, string granted) =>
        SmartScopeSet.Parse(registered).Intersect(SmartScopeSet.Parse(requested)).ToString().Should().Be(granted);

    [Fact]
    public void Without_removes_write_permissions_for_sponsors()
    {
        var set = SmartScopeSet.Parse("system/Observation.cruds system/Patient.write system/*.read");
        set.Without(Interaction.Create | Interaction.Update | Interaction.Delete).ToString()
            .Should().Be("system/Observation.rs system/*.read");
    }

    [Fact]
    public void Registration_refuses_write_scopes_for_a_sponsor_and_a_hospital_without_site()
    {
        var jwks = TestClientKey.Es384().PublicJwks;
        var sponsor = new ClientRegistration { Id = "sponsor-1", Role = ClientRole.Sponsor, Scopes = ["system/Observation.rs", "system/Patient.write"], Jwks = jwks };
        sponsor.Invoking(s => s.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*sponsor may only hold read and search*");

        new ClientRegistration { Id = "sponsor-2", Role = ClientRole.Sponsor, Scopes = ["system/*.rs"], Jwks = jwks }.Validate();

        new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Scopes = ["system/*.rs"], Jwks = jwks }
            .Invoking(s => s.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*site*");
        new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Site = "S1", Scopes = ["system/Observation.rx"], Jwks = jwks }
            .Invoking(s => s.Validate()).Should().Throw<InvalidOperationException>();
        new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Site = "S1", Scopes = ["system/*.rs"] }
            .Invoking(s => s.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*JWKS*");
        new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Site = "S1", Scopes = ["system/*.rs"], JwksUrl = "http://keys.example.org/jwks" }
            .Invoking(s => s.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*https*");
    }

    [Fact]
    public void Registration_refuses_private_keys_and_weak_or_wrong_curves()
    {
        using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        var privateJwk = JwkFiles.ToJwk(ec, "ES384", includePrivate: true);
        var leaking = new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Site = "S1", Scopes = ["system/*.rs"], Jwks = $"{{\"keys\":[{privateJwk.ToJsonString()}]}}" };
        leaking.Invoking(c => c.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*private*");

        using var p256 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var wrongCurve = new ClientRegistration { Id = "h", Role = ClientRole.Hospital, Site = "S1", Scopes = ["system/*.rs"], Jwks = JwkFiles.ToPublicJwks(p256, "ES384").ToJsonString() };
        wrongCurve.Invoking(c => c.Validate()).Should().Throw<InvalidOperationException>().WithMessage("*P-384*");
    }

    [Fact]
    public void Principal_is_read_from_token_claims_and_Require_throws_403_naming_the_scope()
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim("client_id", "site-a-ehr"), new Claim("role", "hospital"), new Claim("site", "SITE-A"),
            new Claim("scope", "system/Observation.cruds system/Patient.rs openid"),
        ], "Bearer"));
        GatewayPrincipal.TryFrom(user, out var principal, out _).Should().BeTrue();
        principal!.ClientId.Should().Be("site-a-ehr");
        principal.Role.Should().Be(ClientRole.Hospital);
        principal.Site.Should().Be("SITE-A");
        principal.Allows("Observation", Interaction.Create).Should().BeTrue();
        principal.Allows("Patient", Interaction.Update).Should().BeFalse();

        ScopeAuthorization.Require(principal, "Observation", Interaction.Delete);
        var refused = () => ScopeAuthorization.Require(principal, "Patient", Interaction.Update);
        refused.Should().Throw<FhirException>().Which.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Should().Throw<FhirException>().WithMessage("*system/Patient.u*");

        var sponsorClaims = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim("client_id", "sponsor"), new Claim("role", "sponsor"), new Claim("scope", "system/*.cruds")], "Bearer"));
        GatewayPrincipal.TryFrom(sponsorClaims, out var sponsor, out _).Should().BeTrue();
        sponsor!.Allows("Observation", Interaction.Read).Should().BeTrue();
        sponsor.Allows("Observation", Interaction.Create).Should().BeFalse("a sponsor never writes, even if a token says so");

        var noRole = new ClaimsPrincipal(new ClaimsIdentity([new Claim("client_id", "x"), new Claim("scope", "system/*.rs")], "Bearer"));
        GatewayPrincipal.TryFrom(noRole, out _, out var problem).Should().BeFalse();
        problem.Should().Contain("role");
    }

    [Theory]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Read, Interaction.Read)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Vread, Interaction.Read)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.HistoryInstance, Interaction.Read)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.HistoryType, Interaction.Read)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.SearchType, Interaction.Search)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Create, Interaction.Create)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Update, Interaction.Update)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Patch, Interaction.Update)]
    [InlineData(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction.Delete, Interaction.Delete)]
    public void Fhir_interactions_map_to_smart_permissions(Hl7.Fhir.Model.CapabilityStatement.TypeRestfulInteraction fhir, Interaction smart) =>
        ScopeAuthorization.For(fhir).Should().Be(smart);
}
