using System.Net;
using FhirTrialGateway.Audit;
using FhirTrialGateway.Core.Fhir;
using FhirTrialGateway.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Tests.Audit;

/// <summary>Every request of a scripted session leaves an AuditEvent; editing or removing one is detected.</summary>
public sealed class AuditTrailTests : GatewayTest
{
    private List<AuditEvent> StoredAuditEvents()
    {
        using var connection = new SqliteConnection($"Data Source={Gateway.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM resource_versions WHERE resource_type = 'AuditEvent' ORDER BY seq";
        using var reader = command.ExecuteReader();
        var events = new List<AuditEvent>();
        while (reader.Read())
        {
            events.Add((AuditEvent)ResourceSerializer.ParseStored((byte[])reader.GetValue(0)));
        }

        return events;
    }

    private async Task<List<AuditEvent>> WaitForAuditEvents(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var events = StoredAuditEvents();
            if (events.Count >= count || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(50);
        }
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Gateway.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery().Should().BeGreaterThan(0, sql);
    }

    [Fact]
    public async Task Every_request_of_a_session_has_its_AuditEvent_and_tampering_is_detected()
    {
        var client = Gateway.FhirClient();
        var patient = await client.CreateAsync(TestData.Subject("AU-1"));                                     // create (+ metadata)
        await client.ReadAsync<Patient>($"Patient/{patient!.Id}");                                            // read
        patient.Gender = AdministrativeGender.Male;
        await client.UpdateAsync(patient);                                                                    // update
        await Http.GetAsync("fhir/Patient?identifier=AU-1");                                                  // search
        await Http.GetAsync("fhir/Patient/does-not-exist");                                                   // failed read
        await Http.PostAsync("fhir/Patient", TestGateway.Content("x", "text/plain"));                        // refused
        await client.DeleteAsync($"Patient/{patient.Id}");                                                    // delete
        const int requests = 8;

        var events = await WaitForAuditEvents(requests);
        events.Should().HaveCount(requests, string.Join("\n", events.Select(TestData.ToJson)));
        events.Should().OnlyContain(e => e.Type.Code == "rest" && e.Agent.Single().Network != null && e.Agent.Single().Requestor == true
                                         && e.Agent.Single().Network.Address != null && e.Recorded != null);
        var bySubtype = events.ToLookup(e => e.Subtype.Single().Code);
        var created = bySubtype["create"].Single(e => e.Outcome == AuditEvent.AuditEventOutcome.N0);
        created.Action.Should().Be(AuditEvent.AuditEventAction.C);
        created.Entity.Single().What.Reference.Should().Be($"Patient/{patient.Id}/_history/1");
        bySubtype["update"].Single().Entity.Single().What.Reference.Should().Be($"Patient/{patient.Id}/_history/2");
        bySubtype["delete"].Single().Action.Should().Be(AuditEvent.AuditEventAction.D);
        bySubtype["search-type"].Single().Entity.Single().Query.Should().Equal(System.Text.Encoding.UTF8.GetBytes("?identifier=AU-1"));
        bySubtype["read"].Should().HaveCount(2);
        bySubtype["read"].Should().ContainSingle(e => e.Outcome == AuditEvent.AuditEventOutcome.N4, "the failed read is audited as a failure");
        bySubtype["create"].Should().ContainSingle(e => e.OutcomeDesc == "HTTP 415", "the refused request is audited too");
        bySubtype["capabilities"].Should().ContainSingle("FhirClient asked for the CapabilityStatement first");

        AuditCommand.Verify(Gateway.DatabasePath, TextWriter.Null, TextWriter.Null).Should().Be(0);

        Execute("UPDATE resource_versions SET body = CAST(replace(CAST(body AS TEXT), 'HTTP 201', 'HTTP 200') AS BLOB) " +
                "WHERE resource_type = 'AuditEvent' AND CAST(body AS TEXT) LIKE '%HTTP 201%'");
        var report = new StringWriter();
        AuditCommand.Verify(Gateway.DatabasePath, report, TextWriter.Null).Should().Be(1);
        report.ToString().Should().Contain("was changed after it was written");
    }

    [Fact]
    public async Task Removing_an_audit_record_breaks_the_chain()
    {
        for (var i = 0; i < 4; i++)
        {
            await Http.GetAsync("fhir/Patient");
        }

        await WaitForAuditEvents(4);
        AuditCommand.Verify(Gateway.DatabasePath, TextWriter.Null, TextWriter.Null).Should().Be(0);
        Execute("DELETE FROM audit_chain WHERE link = 2");
        var report = new StringWriter();
        AuditCommand.Verify(Gateway.DatabasePath, report, TextWriter.Null).Should().Be(1);
        report.ToString().Should().Contain("previous hash does not match");
    }

    [Fact]
    public async Task The_audit_trail_cannot_be_written_through_the_api()
    {
        var forged = new AuditEvent
        {
            Type = new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
            Recorded = DateTimeOffset.UtcNow,
            Agent = [new AuditEvent.AgentComponent { Requestor = true }],
            Source = new AuditEvent.SourceComponent { Observer = new ResourceReference { Display = "forger" } },
        };
        (await Http.PostAsync("fhir/AuditEvent", TestGateway.Json(TestData.ToJson(forged)))).StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        (await Http.DeleteAsync("fhir/AuditEvent/x")).StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }
}
