using System.Globalization;
using System.Text;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Http;

/// <summary>
/// A searchset or history Bundle whose entries hold stored resources as the JSON the store keeps. As plain JSON it
/// is written by serializing the envelope (links, totals, search modes, request and response) with the SDK, one small
/// placeholder resource per entry, and splicing each entry's stored bytes where its placeholder is: a page of 50
/// resources costs no parse and no re-serialization. Parsing every stored resource only to write it out again was
/// most of a search's server time; the SDK serializes objects only, hence the splice. Every other rendering (XML,
/// _pretty, _summary, _elements) parses the entries into the Bundle and lets the SDK write it.
/// </summary>
internal sealed class StoredBundle(Bundle envelope)
{
    private const string MarkerPrefix = "stored-entry-";
    private readonly List<byte[]> _bodies = [];

    public Bundle Envelope { get; } = envelope;

    /// <summary>A placeholder resource for an entry: the stored JSON it stands for is written in its place.</summary>
    public Resource Hold(byte[] storedJson)
    {
        var placeholder = new Basic { Id = MarkerPrefix + _bodies.Count.ToString(CultureInfo.InvariantCulture) };
        _bodies.Add(storedJson);
        return placeholder;
    }

    /// <summary>The Bundle with every placeholder replaced by its parsed resource (for renderings the splice cannot do).</summary>
    public Bundle Materialize()
    {
        foreach (var entry in Envelope.Entry)
        {
            if (entry.Resource is Basic { Id: { } id } && id.StartsWith(MarkerPrefix, StringComparison.Ordinal))
            {
                entry.Resource = ResourceSerializer.ParseStored(_bodies[int.Parse(id.AsSpan(MarkerPrefix.Length), CultureInfo.InvariantCulture)]);
            }
        }

        return Envelope;
    }

    /// <summary>The Bundle as compact JSON with the stored bytes of every entry spliced in.</summary>
    public byte[] SpliceJson()
    {
        var envelope = ResourceSerializer.SerializeJson(Envelope);
        var output = new MemoryStream(envelope.Length + _bodies.Sum(b => b.Length));
        var position = 0;
        for (var i = 0; i < _bodies.Count; i++)
        {
            // The placeholders appear in entry order. Their text cannot occur elsewhere: inside any JSON string
            // (a link, a diagnostic) its quotes would be escaped.
            var marker = Marker(i);
            var at = envelope.AsSpan(position).IndexOf(marker);
            if (at < 0)
            {
                throw new InvalidOperationException($"The serialized Bundle lacks the placeholder of entry {i}.");
            }

            output.Write(envelope, position, at);
            output.Write(_bodies[i]);
            position += at + marker.Length;
        }

        output.Write(envelope, position, envelope.Length - position);
        return output.ToArray();
    }

    /// <summary>How the SDK writes the placeholder of entry <paramref name="index"/> in compact JSON.</summary>
    internal static byte[] Marker(int index) =>
        Encoding.UTF8.GetBytes($"{{\"resourceType\":\"Basic\",\"id\":\"{MarkerPrefix}{index.ToString(CultureInfo.InvariantCulture)}\"}}");
}
