using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirTrialGateway.Core.Fhir;

/// <summary>
/// A new resource's stored JSON, serialized before it reaches the single writer, with placeholders where the writer
/// fills in meta.versionId and meta.lastUpdated (only the writer knows them). Completing it splices two short values
/// into the bytes instead of serializing the resource on the writer thread, where serialization took 8% of the time
/// on transaction bundles (perf profile).
/// </summary>
/// <remarks>
/// The splice is safe because R4 JSON puts a resource's own meta right after its id, so the first
/// <c>"versionId":"…","lastUpdated":"…"</c> pair is that meta's; a placeholder found anywhere else (the same text
/// inside the resource, a pathological but possible input) makes <see cref="Of"/> give up, and the writer
/// serializes as before. Tests compare completed bytes with the SDK's own serialization.
/// </remarks>
public sealed class PreparedJson
{
    /// <summary>The versionId text JSON written by other means puts into meta, to be replaced by the writer.</summary>
    internal const string VersionPlaceholder = "fhirgw-pending-version";
    private static readonly DateTimeOffset InstantPlaceholder = new(1001, 1, 1, 1, 1, 1, TimeSpan.Zero);

    /// <summary>The lastUpdated text JSON written by other means puts into meta, to be replaced by the writer.</summary>
    internal static readonly string InstantPlaceholderText = PrimitiveTypeConverter.ConvertTo<string>(InstantPlaceholder);
    private const string VersionKey = "\"versionId\":\"";
    private static readonly byte[] Placeholder = Encoding.UTF8.GetBytes(VersionPlaceholder);
    private static readonly byte[] Marker = Encoding.UTF8.GetBytes($"{VersionKey}{VersionPlaceholder}\",\"lastUpdated\":\"");

    private readonly byte[] _json;
    private readonly int _metaStart; // where "versionId" begins
    private readonly int _metaEnd;   // just after the closing quote of lastUpdated's value

    private PreparedJson(string id, byte[] json, int metaStart, int metaEnd)
    {
        Id = id;
        _json = json;
        _metaStart = metaStart;
        _metaEnd = metaEnd;
    }

    /// <summary>Sets the resource's id and serializes it with placeholders; null if the placeholder is ambiguous.</summary>
    public static PreparedJson? Of(Resource resource, string id)
    {
        resource.Id = id;
        resource.Meta ??= new Meta();
        resource.Meta.VersionId = VersionPlaceholder;
        resource.Meta.LastUpdated = InstantPlaceholder;
        return Of(id, ResourceSerializer.SerializeJson(resource));
    }

    /// <summary>
    /// JSON written with <see cref="VersionPlaceholder"/> and <see cref="InstantPlaceholderText"/> in its meta by other
    /// means than the SDK's serializer (<see cref="Audit.AuditEventJson"/>); null if the placeholder is ambiguous.
    /// </summary>
    internal static PreparedJson? Of(string id, byte[] json)
    {
        var span = json.AsSpan();
        var start = span.IndexOf(Marker);
        var first = span.IndexOf(Placeholder);
        if (start < 0 || first != start + VersionKey.Length || span[(first + Placeholder.Length)..].IndexOf(Placeholder) >= 0)
        {
            return null;
        }

        var valueStart = start + Marker.Length;
        var valueLength = span[valueStart..].IndexOf((byte)'"');
        return valueLength < 0 ? null : new PreparedJson(id, json, start, valueStart + valueLength + 1);
    }

    /// <summary>The id the JSON was prepared with.</summary>
    public string Id { get; }

    /// <summary>The stored bytes of this version; the resource's meta gets the same values.</summary>
    public byte[] Complete(Resource resource, int version, DateTimeOffset lastUpdated)
    {
        resource.Meta ??= new Meta();
        resource.Meta.VersionId = version.ToString(CultureInfo.InvariantCulture);
        resource.Meta.LastUpdated = lastUpdated;
        return Complete(version, lastUpdated);
    }

    /// <summary>The stored bytes of this version.</summary>
    public byte[] Complete(int version, DateTimeOffset lastUpdated)
    {
        var versionId = version.ToString(CultureInfo.InvariantCulture);
        var meta = Encoding.UTF8.GetBytes(
            $"\"versionId\":\"{versionId}\",\"lastUpdated\":\"{PrimitiveTypeConverter.ConvertTo<string>(lastUpdated)}\"");
        var result = new byte[_metaStart + meta.Length + (_json.Length - _metaEnd)];
        _json.AsSpan(0, _metaStart).CopyTo(result);
        meta.CopyTo(result.AsSpan(_metaStart));
        _json.AsSpan(_metaEnd).CopyTo(result.AsSpan(_metaStart + meta.Length));
        return result;
    }
}
