using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FhirTrialGateway.Core.Search;

/// <summary>The comparison prefixes of number, date and quantity parameters (R4 search 3.1.1.4.2).</summary>
public enum Prefix
{
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

/// <summary>Value conversions shared by extraction (what is stored) and parsing (what is searched).</summary>
public static partial class SearchValues
{
    /// <summary>Bounds for open Period ends: year 1 and the last millisecond of year 9999.</summary>
    public const long MinInstant = -62135596800000;

    public const long MaxInstant = 253402300799999;

    /// <summary>
    /// Lower-case without diacritics: the form the default and :contains string searches compare. Latin letters are
    /// folded by table because the server may run with invariant globalization (no ICU), where Normalize cannot
    /// decompose; other scripts are decomposed when ICU is there.
    /// </summary>
    public static string Normalize(string value)
    {
        var lower = value.ToLowerInvariant();
        var plain = true;
        foreach (var c in lower)
        {
            if (c > 127)
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return lower;
        }

        var builder = new StringBuilder(lower.Length);
        foreach (var c in lower)
        {
            var folded = c is >= '\u00C0' and <= '\u017F' ? LatinFold[c - '\u00C0'] : c;
            if (folded != '\0')
            {
                builder.Append(folded == '*' ? c : folded);
            }
        }

        var result = builder.ToString();
        try
        {
            var decomposed = result.Normalize(NormalizationForm.FormD);
            if (decomposed.Length != result.Length)
            {
                result = new string(decomposed.Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark).ToArray());
            }
        }
        catch (PlatformNotSupportedException)
        {
            // invariant globalization: the table above is all there is
        }

        return result;
    }

    /// <summary>Base letters of U+00C0..U+017F (lower-cased input); '*' keeps the character as it is.</summary>
    private static readonly string LatinFold =
        "aaaaaaaceeeeiiii" + "dnooooo*ouuuuy*s" + "aaaaaaaceeeeiiii" + "dnooooo*ouuuuy*y" +
        "aaaaaaccccccccdd" + "ddeeeeeeeeeegggg" + "gggghhhhiiiiiiii" + "ii**jjkkklllllll" +
        "lllnnnnnnn**oooo" + "oo**rrrrrrssssss" + "ssttttttuuuuuuuu" + "uuuuwwyyyzzzzzz*";

    /// <summary>
    /// The implicit range of a FHIR date, dateTime or instant as inclusive unix milliseconds: 2026 is the whole year,
    /// 2026-03-01T10:00 the whole minute. Values without a time zone are taken as UTC (this server's zone).
    /// </summary>
    public static bool TryParseDateRange(string text, out long low, out long high)
    {
        low = high = 0;
        var match = DatePattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        try
        {
            var year = int.Parse(match.Groups["y"].Value, CultureInfo.InvariantCulture);
            var month = match.Groups["m"].Success ? int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture) : 1;
            var day = match.Groups["d"].Success ? int.Parse(match.Groups["d"].Value, CultureInfo.InvariantCulture) : 1;
            var hour = match.Groups["h"].Success ? int.Parse(match.Groups["h"].Value, CultureInfo.InvariantCulture) : 0;
            var minute = match.Groups["mi"].Success ? int.Parse(match.Groups["mi"].Value, CultureInfo.InvariantCulture) : 0;
            var second = match.Groups["s"].Success ? int.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
            var fraction = match.Groups["f"].Success ? match.Groups["f"].Value : null;
            var offset = TimeSpan.Zero;
            if (match.Groups["z"].Success && match.Groups["z"].Value != "Z")
            {
                var z = match.Groups["z"].Value;
                offset = new TimeSpan(int.Parse(z[1..3], CultureInfo.InvariantCulture), int.Parse(z[4..6], CultureInfo.InvariantCulture), 0);
                offset = z[0] == '-' ? -offset : offset;
            }

            var milliseconds = fraction is null ? 0 : int.Parse(fraction.PadRight(3, '0')[..3], CultureInfo.InvariantCulture);
            var start = new DateTimeOffset(year, month, day, hour, minute, second, milliseconds, offset);
            var end = !match.Groups["m"].Success ? start.AddYears(1)
                : !match.Groups["d"].Success ? start.AddMonths(1)
                : !match.Groups["h"].Success ? start.AddDays(1)
                : !match.Groups["s"].Success ? start.AddMinutes(1)
                : fraction is null ? start.AddSeconds(1)
                : start.AddMilliseconds(1);
            low = start.ToUnixTimeMilliseconds();
            high = end.ToUnixTimeMilliseconds() - 1;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false; // 2026-02-30 and the like
        }
    }

    /// <summary>The range a number written with this precision stands for: 100 is [99.5, 100.5), 1e2 likewise.</summary>
    public static (double Low, double High) PrecisionRange(decimal value)
    {
        var scale = value.Scale;
        var half = 0.5 * Math.Pow(10, -scale);
        var v = (double)value;
        return (v - half, v + half);
    }

    public static bool TryParsePrefix(string text, out Prefix prefix, out string rest)
    {
        prefix = Prefix.Eq;
        rest = text;
        if (text.Length > 2 && char.IsAsciiLetterLower(text[0]) && char.IsAsciiLetterLower(text[1]))
        {
            var parsed = text[..2] switch
            {
                "eq" => Prefix.Eq,
                "ne" => Prefix.Ne,
                "gt" => Prefix.Gt,
                "lt" => Prefix.Lt,
                "ge" => Prefix.Ge,
                "le" => Prefix.Le,
                "sa" => Prefix.Sa,
                "eb" => Prefix.Eb,
                "ap" => Prefix.Ap,
                _ => (Prefix?)null,
            };
            if (parsed is null)
            {
                return false;
            }

            prefix = parsed.Value;
            rest = text[2..];
        }

        return true;
    }

    public static bool TryParseDecimal(string text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out value);

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<m>\d{2})(-(?<d>\d{2})(T(?<h>\d{2}):(?<mi>\d{2})(:(?<s>\d{2})(\.(?<f>\d{1,9}))?)?(?<z>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DatePattern();
}
