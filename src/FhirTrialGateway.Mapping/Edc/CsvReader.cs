using System.Text;

namespace FhirTrialGateway.Mapping.Edc;

/// <summary>
/// A small streaming RFC 4180 reader (quoted fields, doubled quotes, line breaks inside quotes) that knows the
/// line each record starts on, for error reports. REDCap exports need nothing more, so no CSV package is added.
/// </summary>
public sealed class CsvReader(TextReader reader, string file) : IDisposable
{
    private int _line = 1;

    /// <summary>The 1-based line the last record returned by <see cref="Next"/> started on.</summary>
    public int RecordLine { get; private set; }

    public string File { get; } = file;

    public static CsvReader Open(string path) =>
        new(new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true), path);

    /// <summary>The next record, or null at the end. An unterminated quoted field is an error.</summary>
    public List<string>? Next()
    {
        RecordLine = _line;
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var any = false;
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                if (quoted)
                {
                    throw new ImportInputException(ImportIssue.Error("Malformed CSV: a quoted field is not closed before the end of the file.",
                        new SourceLocation(File, RecordLine, null)));
                }

                if (!any)
                {
                    return null;
                }

                fields.Add(field.ToString());
                return fields;
            }

            any = true;
            var ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    _line += ch == '\n' ? 1 : 0;
                    field.Append(ch);
                }

                continue;
            }

            switch (ch)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    _line++;
                    fields.Add(field.ToString());
                    return fields;
                default:
                    field.Append(ch);
                    break;
            }
        }
    }

    public void Dispose() => reader.Dispose();
}
