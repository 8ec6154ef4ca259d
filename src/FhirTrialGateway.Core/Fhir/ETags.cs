using System.Globalization;

namespace FhirTrialGateway.Core.Fhir;

/// <summary>Version ETags as FHIR uses them: <c>W/"3"</c> (the quotes and the weak prefix are optional on input).</summary>
public static class ETags
{
    public static int ParseVersion(string header, string what)
    {
        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        value = value.Trim('"');
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
            ? version
            : throw FhirException.BadRequest($"{what} '{header}' is not a version ETag such as W/\"3\".", what);
    }

    /// <summary>The version an optional header or element names, or null when it is absent.</summary>
    public static int? ParseOptional(string? header, string what) =>
        string.IsNullOrWhiteSpace(header) ? null : ParseVersion(header, what);
}
