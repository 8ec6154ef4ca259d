namespace FhirTrialGateway.Mapping.Edc;

/// <summary>One field of a REDCap data dictionary.</summary>
public sealed record RedcapField(string Name, string Form, string Type, string Validation, bool Identifier);

/// <summary>
/// Reads a REDCap export: the data dictionary CSV and the flat data CSV ("raw" values), classic or longitudinal
/// (redcap_event_name) and with repeating instruments (redcap_repeat_instrument / _instance). Rows of one record
/// are contiguous in REDCap's exports; the reader streams them one record at a time.
/// </summary>
public sealed class RedcapReader
{
    private static readonly HashSet<string> Structural = new(StringComparer.Ordinal)
    {
        "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group", "redcap_survey_identifier",
    };

    private RedcapReader(Dictionary<string, RedcapField> fields) => Fields = fields;

    public IReadOnlyDictionary<string, RedcapField> Fields { get; }

    /// <summary>Fields the dictionary flags as identifiers (Identifier? = y), and file uploads (pictures, scans).</summary>
    public IEnumerable<string> IdentifyingFields => Fields.Values.Where(f => f.Identifier || f.Type == "file").Select(f => f.Name);

    public static RedcapReader LoadDictionary(string path)
    {
        using var csv = CsvReader.Open(path);
        var header = csv.Next() ?? throw new ImportInputException(ImportIssue.Error("The data dictionary is empty.", new SourceLocation(path, 1, null)));
        int Column(string name) => header.FindIndex(h => h.Trim() == name) is var i and >= 0 ? i
            : throw new ImportInputException(ImportIssue.Error($"The data dictionary has no column '{name}'.", new SourceLocation(path, 1, name)));
        int name = Column("Variable / Field Name"), form = Column("Form Name"), type = Column("Field Type"),
            validation = Column("Text Validation Type OR Show Slider Number"), identifier = Column("Identifier?");
        var fields = new Dictionary<string, RedcapField>(StringComparer.Ordinal);
        while (csv.Next() is { } row)
        {
            if (row.Count != header.Count)
            {
                throw new ImportInputException(ImportIssue.Error($"Malformed CSV: {row.Count} fields where the header has {header.Count}.",
                    new SourceLocation(path, csv.RecordLine, null)));
            }

            fields[row[name]] = new RedcapField(row[name], row[form], row[type], row[validation], row[identifier].Trim() == "y");
        }

        return new RedcapReader(fields);
    }

    /// <summary>Reads the whole data file once: a malformed file is reported before anything of it is sent.</summary>
    public static void CheckWellFormed(string path)
    {
        using var csv = CsvReader.Open(path);
        var header = csv.Next() ?? throw new ImportInputException(ImportIssue.Error("The data file is empty.", new SourceLocation(path, 1, null)));
        while (csv.Next() is { } row)
        {
            if (row.Count != header.Count)
            {
                throw new ImportInputException(ImportIssue.Error($"Malformed CSV: {row.Count} fields where the header has {header.Count}.",
                    new SourceLocation(path, csv.RecordLine, null)));
            }
        }
    }

    public IEnumerable<EdcSubject> ReadSubjects(string path)
    {
        using var csv = CsvReader.Open(path);
        var header = csv.Next() ?? throw new ImportInputException(ImportIssue.Error("The data file is empty.", new SourceLocation(path, 1, null)));
        int eventColumn = header.IndexOf("redcap_event_name"), instrumentColumn = header.IndexOf("redcap_repeat_instrument"),
            instanceColumn = header.IndexOf("redcap_repeat_instance");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        EdcSubject? subject = null;
        while (csv.Next() is { } row)
        {
            var line = csv.RecordLine;
            if (row.Count != header.Count)
            {
                throw new ImportInputException(ImportIssue.Error($"Malformed CSV: {row.Count} fields where the header has {header.Count}.",
                    new SourceLocation(path, line, null)));
            }

            var record = row[0];
            if (subject is null || subject.Key != record)
            {
                if (subject is not null)
                {
                    yield return subject;
                }

                if (!seen.Add(record))
                {
                    throw new ImportInputException(ImportIssue.Error($"The rows of record '{record}' are not contiguous; REDCap exports group them.",
                        new SourceLocation(path, line, header[0]), record));
                }

                subject = new EdcSubject(record, new SourceLocation(path, line, header[0]));
            }

            var @event = eventColumn >= 0 ? row[eventColumn] : "";
            var instrument = instrumentColumn >= 0 ? row[instrumentColumn] : "";
            var instance = instanceColumn >= 0 && row[instanceColumn].Length > 0 ? row[instanceColumn] : "1";
            // An instance without an instrument is a repeating event: the instance is the event's repeat.
            var eventRepeat = instrument.Length == 0 ? instance : "1";
            var groups = new Dictionary<string, EdcGroup>(StringComparer.Ordinal);
            for (var i = 1; i < row.Count; i++)
            {
                var column = header[i];
                if (row[i].Length == 0 || Structural.Contains(column) || column.EndsWith("_complete", StringComparison.Ordinal) ||
                    column.EndsWith("_timestamp", StringComparison.Ordinal))
                {
                    continue;
                }

                // Checkbox fields export one column per choice: field___code.
                var baseName = column.Contains("___", StringComparison.Ordinal) ? column[..column.IndexOf("___", StringComparison.Ordinal)] : column;
                var form = instrument.Length > 0 ? instrument : Fields.GetValueOrDefault(baseName)?.Form ?? "";
                if (!groups.TryGetValue(form, out var group))
                {
                    group = new EdcGroup(@event, eventRepeat, form, instrument.Length > 0 ? instance : "1", new SourceLocation(path, line, null));
                    groups[form] = group;
                    subject.Groups.Add(group);
                }

                group.Values.Add(new EdcValue(column, row[i].Trim(), new SourceLocation(path, line, column)));
            }
        }

        if (subject is not null)
        {
            yield return subject;
        }
    }
}
