namespace FhirTrialGateway.Mapping.Edc;

/// <summary>One item value as exported, with where it was read.</summary>
public sealed record EdcValue(string Item, string Value, SourceLocation At);

/// <summary>
/// One repeat of an item group (ODM ItemGroupData, or a REDCap form within one row) within a study event.
/// Event is the ODM StudyEventOID or REDCap unique event name ("" when the export has no events).
/// </summary>
public sealed class EdcGroup(string @event, string eventRepeat, string group, string groupRepeat, SourceLocation at)
{
    public string Event { get; } = @event;

    public string EventRepeat { get; } = eventRepeat;

    public string Group { get; } = group;

    public string GroupRepeat { get; } = groupRepeat;

    public SourceLocation At { get; } = at;

    public List<EdcValue> Values { get; } = [];
}

/// <summary>Everything exported for one subject: the unit of mapping, validation and sending.</summary>
public sealed class EdcSubject(string key, SourceLocation at)
{
    public string Key { get; } = key;

    public SourceLocation At { get; } = at;

    public List<EdcGroup> Groups { get; } = [];
}
