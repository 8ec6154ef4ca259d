namespace FhirTrialGateway.Mapping;

/// <summary>
/// One problem found while importing: where it is in the input (file, line, and the XPath for ODM or the column
/// for CSV), whose data it is (subject, visit, item) and what is wrong. Errors keep the subject's bundle from being
/// sent; warnings (such as dropped identifying fields) are reported only.
/// </summary>
public sealed record ImportIssue(
    bool IsError,
    string Message,
    string? File = null,
    int? Line = null,
    string? Path = null,
    string? Subject = null,
    string? Visit = null,
    string? Item = null)
{
    public static ImportIssue Error(string message, SourceLocation? at = null, string? subject = null, string? visit = null, string? item = null) =>
        new(true, message, at?.File, at?.Line, at?.Path, subject, visit, item);

    public static ImportIssue Warning(string message, SourceLocation? at = null, string? subject = null, string? visit = null, string? item = null) =>
        new(false, message, at?.File, at?.Line, at?.Path, subject, visit, item);

    public override string ToString()
    {
        var where = new List<string>();
        if (File is not null)
        {
            where.Add(Line is { } line ? $"{File}:{line}" : File);
        }

        if (Path is not null)
        {
            where.Add(Path);
        }

        if (Subject is not null)
        {
            where.Add($"subject {Subject}");
        }

        if (Visit is not null)
        {
            where.Add($"visit {Visit}");
        }

        if (Item is not null)
        {
            where.Add($"item {Item}");
        }

        var prefix = IsError ? "error" : "warning";
        return where.Count == 0 ? $"{prefix}: {Message}" : $"{prefix}: {string.Join(", ", where)}: {Message}";
    }
}

/// <summary>Where a value was read: file, 1-based line, and an XPath (ODM) or column name (CSV).</summary>
public sealed record SourceLocation(string File, int? Line, string? Path);

/// <summary>Thrown for input that cannot be read at all (malformed XML or CSV, a missing column): nothing is sent.</summary>
public sealed class ImportInputException(ImportIssue issue) : Exception(issue.ToString())
{
    public ImportIssue Issue { get; } = issue;
}
