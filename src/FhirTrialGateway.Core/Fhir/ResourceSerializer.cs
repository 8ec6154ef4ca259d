using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;

namespace FhirTrialGateway.Core.Fhir;

/// <summary>
/// Parsing and serializing FHIR resources with the Firely SDK's POCO (de)serializers. Parse problems come back
/// as a 400 <see cref="FhirException"/> whose OperationOutcome names the line, position and FHIRPath of each issue.
/// XML is read with DTDs prohibited and no resolver, so no entity is ever expanded or fetched.
/// </summary>
public static class ResourceSerializer
{
    private static readonly BaseFhirJsonSerializer JsonSerializer = new(ModelInfo.ModelInspector);
    private static readonly BaseFhirXmlSerializer XmlSerializer = new(ModelInfo.ModelInspector);

    // Incoming data: every issue the SDK knows about that would lose or misread data is an error.
    private static readonly FhirJsonDeserializer StrictJson = FhirJsonDeserializer.DEFAULT;
    private static readonly FhirXmlDeserializer StrictXml = FhirXmlDeserializer.DEFAULT;

    // Our own stored data was checked on the way in; reading it back must not fail on SDK rule changes.
    private static readonly FhirJsonDeserializer StoredJson = FhirJsonDeserializer.RECOVERABLE;

    private static readonly XmlReaderSettings SafeXml = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersFromEntities = 0,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = false,
    };

    public static Resource Parse(ReadOnlySpan<byte> body, FhirFormat format) =>
        format == FhirFormat.Json ? ParseJson(body) : ParseXml(body);

    /// <summary>Reads a resource this server stored itself.</summary>
    public static Resource ParseStored(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        return StoredJson.DeserializeResource(ref reader);
    }

    // FHIR JSON is UTF-8: only what JSON itself requires is escaped (the default encoder would also escape
    // '+', '<', quotes and every non-ASCII letter, which makes names and instants hard to read).
    internal static readonly JsonWriterOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions PrettyJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    public static byte[] SerializeJson(Base resource, bool pretty = false) =>
        Serialize(resource, FhirFormat.Json, pretty);

    public static byte[] Serialize(Base resource, FhirFormat format, bool pretty, SummaryType summary = SummaryType.False,
        string[]? elements = null)
    {
        if (format == FhirFormat.Xml)
        {
            return XmlSerializer.SerializeToBytes(resource, summary, elements, includeMandatoryInElementsSummary: true, pretty: pretty);
        }

        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, pretty ? PrettyJson : CompactJson))
        {
            JsonSerializer.Serialize(resource, writer, summary, elements, true);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static Resource ParseJson(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            throw FhirException.BadRequest("The request body is empty; a FHIR resource was expected.", null, OperationOutcome.IssueType.Required);
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 128 });
            if (StrictJson.TryDeserializeResource(ref reader, out var resource, out var issues) && resource is not null)
            {
                return resource;
            }

            throw ParseFailure(issues, resource);
        }
        catch (JsonException ex)
        {
            throw SyntaxFailure("JSON", ex.Message, ex.LineNumber + 1, ex.BytePositionInLine + 1);
        }
        catch (DeserializationFailedException ex)
        {
            throw ParseFailure(ex.Exceptions, ex.PartialResult as Resource);
        }
    }

    private static Resource ParseXml(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            throw FhirException.BadRequest("The request body is empty; a FHIR resource was expected.", null, OperationOutcome.IssueType.Required);
        }

        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, SafeXml);
            if (StrictXml.TryDeserializeResource(reader, out var resource, out var issues) && resource is not null)
            {
                return resource;
            }

            throw ParseFailure(issues, resource);
        }
        catch (XmlException ex)
        {
            throw SyntaxFailure("XML", ex.Message, ex.LineNumber, ex.LinePosition);
        }
        catch (DeserializationFailedException ex)
        {
            throw ParseFailure(ex.Exceptions, ex.PartialResult as Resource);
        }
    }

    private static FhirException SyntaxFailure(string format, string message, long? line, long? position)
    {
        if (line is <= 0)
        {
            line = null;
        }

        var where = line is null ? "" : $" at line {line}, position {position}";
        var outcome = Outcomes.Error(OperationOutcome.IssueType.Structure, $"Malformed {format}{where}: {message}");
        if (line is not null)
        {
            outcome.Issue[0].Location = [$"line {line}, col {position}"];
        }

        return new FhirException(System.Net.HttpStatusCode.BadRequest, outcome);
    }

    private static FhirException ParseFailure(IEnumerable<CodedException>? issues, Resource? partial)
    {
        var outcome = new OperationOutcome();
        foreach (var issue in issues ?? [])
        {
            if (issue is ExtendedCodedException extended)
            {
                var converted = extended.ToIssue();
                converted.Severity ??= OperationOutcome.IssueSeverity.Error;
                converted.Diagnostics ??= extended.Message;
                if (extended.LineNumber is { } line)
                {
                    converted.Location = [$"line {line}, col {extended.Position}"];
                }

                outcome.Issue.Add(converted);
            }
            else
            {
                outcome.Issue.Add(new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Error,
                    Code = OperationOutcome.IssueType.Structure,
                    Diagnostics = issue.Message,
                });
            }
        }

        if (outcome.Issue.Count == 0)
        {
            var what = partial is null ? "The body is not a FHIR resource" : $"The {partial.TypeName} could not be read";
            outcome.Issue.Add(new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Error,
                Code = OperationOutcome.IssueType.Structure,
                Diagnostics = what + ".",
            });
        }

        return new FhirException(System.Net.HttpStatusCode.BadRequest, outcome);
    }

    /// <summary>UTF-8 text of a serialized body, for diagnostics in tests and tools (never logged).</summary>
    public static string ToText(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
