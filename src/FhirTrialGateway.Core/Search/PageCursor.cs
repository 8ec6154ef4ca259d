using System.Globalization;
using System.Text;
using System.Text.Json;
using FhirTrialGateway.Core.Fhir;

namespace FhirTrialGateway.Core.Search;

/// <summary>
/// Keyset paging position: the sort values and store key of the row next to the page boundary, and the direction
/// (forward for next, backward for previous). Keyset paging, unlike offsets, neither repeats nor skips a resource
/// when others are created or deleted between pages. Written into links as an opaque token.
/// </summary>
public sealed record PageCursor(bool Backward, long Key, IReadOnlyList<object?> SortValues)
{
    public string Encode()
    {
        if (!Backward && SortValues.Count == 0)
        {
            return Key.ToString(CultureInfo.InvariantCulture); // the common case stays readable
        }

        var json = JsonSerializer.Serialize(new object?[] { Backward ? "b" : "f", Key }.Concat(SortValues).ToArray());
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static PageCursor Decode(string token)
    {
        if (long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var key))
        {
            return new PageCursor(false, key, []);
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(base64));
            var items = document.RootElement.EnumerateArray().ToList();
            var values = items.Skip(2).Select(Value).ToList();
            return new PageCursor(items[0].GetString() == "b", items[1].GetInt64(), values);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw FhirException.BadRequest($"_cursor is a paging cursor this server wrote; '{token}' is not one.", "_cursor");
        }
    }

    private static object? Value(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number when element.TryGetInt64(out var integer) => integer,
        JsonValueKind.Number => element.GetDouble(),
        _ => null,
    };
}
