using System.Globalization;
using System.Text.RegularExpressions;

namespace FhirTrialGateway.Mapping.Edc;

/// <summary>Parses exported values strictly: what cannot be read exactly is an error, never a guess.</summary>
public static partial class ValueParser
{
    [GeneratedRegex(@"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")]
    private static partial Regex FhirDateTime();

    /// <summary>A FHIR dateTime (year, year-month, date, or date and time with a zone), or null with the reason.</summary>
    public static string? DateTime(string value, out string? error)
    {
        error = null;
        if (!FhirDateTime().IsMatch(value))
        {
            error = value.Length > 10 && value[10] == 'T'
                ? $"'{value}' is not a FHIR dateTime: a time needs a time zone, which the export must state"
                : $"'{value}' is not a date (expected YYYY-MM-DD, or a date and time with a zone)";
            return null;
        }

        // The pattern checks the shape; the calendar checks the values (2024-02-30 is not a date).
        var datePart = value.Length >= 10 ? value[..10] : null;
        if (datePart is not null && !System.DateTime.TryParseExact(datePart, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            error = $"'{value}' is not a calendar date";
            return null;
        }

        return value;
    }

    public static int? WholeNumber(string value, decimal? min, decimal? max, out string? error)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            error = $"'{value}' is not a whole number";
            return null;
        }

        error = Range(number, min, max, value);
        return error is null ? number : null;
    }

    public static decimal? Number(string value, decimal? min, decimal? max, out string? error)
    {
        if (!decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"'{value}' is not a number";
            return null;
        }

        error = Range(number, min, max, value);
        return error is null ? number : null;
    }

    private static string? Range(decimal number, decimal? min, decimal? max, string value) =>
        (number < min || number > max)
            ? $"{value} is out of range ({(min is null ? "" : "min " + min.Value.ToString(CultureInfo.InvariantCulture))}{(min is not null && max is not null ? ", " : "")}{(max is null ? "" : "max " + max.Value.ToString(CultureInfo.InvariantCulture))})"
            : null;
}
