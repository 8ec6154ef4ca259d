using System.Text.Json;
using System.Text.Json.Serialization;

namespace FhirTrialGateway.Mapping;

/// <summary>
/// The declarative mapping of one trial (trials/&lt;trial&gt;/mapping.json): which EDC item becomes which
/// Observation, visit, subject property and adverse-event field. Adding a measure or a trial edits this file,
/// not the code. Item names are ODM ItemOIDs or REDCap field names; see docs/mapping.md for the format.
/// </summary>
public sealed class TrialMapping
{
    public required string Trial { get; init; }

    /// <summary>The system of the study's identifier; the study itself is given with --study (or <see cref="Study"/>).</summary>
    public string StudyIdentifierSystem { get; init; } = Ctgov.CtgovCodes.NctSystem;

    public string? Study { get; init; }

    /// <summary>The pseudonymous subject id's system (the EDC's subject key; never a hospital number).</summary>
    public required string SubjectIdSystem { get; init; }

    /// <summary>Base of the business-identifier systems of visits, observations and research subjects.</summary>
    public required string IdentifierBase { get; init; }

    public string ProfileBase { get; init; } = "https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/";

    /// <summary>Arm names of the study; a derived arm must be one of them.</summary>
    public List<string> Arms { get; init; } = [];

    public required VisitMapping Visits { get; init; }

    public SubjectMapping Subject { get; init; } = new();

    public TreatmentMapping? Treatment { get; init; }

    public List<ObservationMapping> Observations { get; init; } = [];

    public AdverseEventMapping? AdverseEvents { get; init; }

    /// <summary>
    /// Item groups (ODM ItemGroupOIDs, REDCap repeating instruments) whose repeats within a visit are separate
    /// measurements: each repeat maps to its own Observations instead of merging into the visit.
    /// </summary>
    public List<RepeatedMeasurementMapping> RepeatedMeasurements { get; init; } = [];

    /// <summary>Items read but deliberately not mapped. A trailing '*' matches a prefix.</summary>
    public List<string> Ignore { get; init; } = [];

    /// <summary>Items that identify a person (name, address, hospital number): dropped, and the import says so.</summary>
    public List<string> Identifying { get; init; } = [];

    /// <summary>Dataset-XML (ItemGroupData directly under ClinicalData): the item holding the subject id.</summary>
    public string DatasetSubjectItem { get; init; } = "IT.USUBJID";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // A misspelt key in a mapping must not be silently ignored.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static TrialMapping Load(string path)
    {
        TrialMapping mapping;
        try
        {
            using var stream = File.OpenRead(path);
            mapping = JsonSerializer.Deserialize<TrialMapping>(stream, Options)
                ?? throw new ImportInputException(ImportIssue.Error("The mapping file is empty.", new SourceLocation(path, null, null)));
        }
        catch (JsonException ex)
        {
            throw new ImportInputException(ImportIssue.Error($"The mapping is not valid: {ex.Message}",
                new SourceLocation(path, (int?)ex.LineNumber + 1, ex.Path)));
        }

        var problems = mapping.Check().ToList();
        if (problems.Count > 0)
        {
            throw new ImportInputException(ImportIssue.Error("The mapping is not valid: " + string.Join("; ", problems), new SourceLocation(path, null, null)));
        }

        return mapping;
    }

    /// <summary>Consistency checks a JSON schema cannot express.</summary>
    public IEnumerable<string> Check()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var observation in Observations)
        {
            if (!names.Add(observation.Name))
            {
                yield return $"observation name '{observation.Name}' is used twice";
            }

            if ((observation.Item is null) == (observation.Components.Count == 0))
            {
                yield return $"observation '{observation.Name}' needs either an item or components";
            }

            if (observation.Item is not null && observation.ValueType is not ("integer" or "quantity"))
            {
                yield return $"observation '{observation.Name}': valueType is 'integer' or 'quantity'";
            }
        }

        var groups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var repeated in RepeatedMeasurements)
        {
            if (!groups.Add(repeated.Group))
            {
                yield return $"repeated measurement group '{repeated.Group}' is listed twice";
            }

            if (repeated.Group == AdverseEvents?.Group)
            {
                yield return $"'{repeated.Group}' is the adverse-event group; it cannot also hold repeated measurements";
            }
        }

        if (Subject.Arm is { } arm)
        {
            foreach (var value in arm.Values.Values.Where(v => !Arms.Contains(v, StringComparer.Ordinal)))
            {
                yield return $"subject.arm maps to '{value}', which is not one of the arms";
            }
        }
    }

    /// <summary>Every item the mapping reads, for the unknown-item check.</summary>
    internal HashSet<string> KnownItems()
    {
        var items = new HashSet<string>(StringComparer.Ordinal) { Visits.DateItem };
        void Add(string? item)
        {
            if (item is not null)
            {
                items.Add(item);
            }
        }

        Add(Subject.EnrollmentDate);
        Add(Subject.EndDate);
        Add(Subject.BirthYear);
        Add(Subject.Arm?.Item);
        Add(Subject.Status?.Item);
        Add(Subject.Sex?.Item);
        Add(Treatment?.DateItem);
        foreach (var repeated in RepeatedMeasurements)
        {
            Add(repeated.DateItem);
        }

        foreach (var observation in Observations)
        {
            Add(observation.Item);
            foreach (var component in observation.Components)
            {
                Add(component.Item);
            }
        }

        if (AdverseEvents is { } ae)
        {
            Add(ae.Sequence);
            Add(ae.Term);
            Add(ae.TermCode);
            Add(ae.StartDate);
            Add(ae.Grade.Item);
            Add(ae.Serious.Item);
            Add(ae.Relatedness?.Item);
            Add(ae.Outcome.Item);
        }

        return items;
    }

    internal bool IsIgnored(string item) => Matches(Ignore, item);

    internal bool IsIdentifying(string item) => Matches(Identifying, item);

    private static bool Matches(List<string> patterns, string item) =>
        patterns.Any(p => p.EndsWith('*') ? item.StartsWith(p[..^1], StringComparison.Ordinal) : p == item);
}

public sealed class VisitMapping
{
    /// <summary>ODM StudyEventOID or REDCap unique event name to protocol-visit code; null: not a visit (e.g. an AE log).</summary>
    public Dictionary<string, string?> Events { get; init; } = [];

    /// <summary>The item holding the visit date (Encounter.period.start, Observation.effective).</summary>
    public required string DateItem { get; init; }

    public string System { get; init; } = "https://fhirtrialgateway.org/fhir/epc-cli/CodeSystem/protocol-visit";
}

/// <summary>An item whose raw values are mapped to codes; raw values not listed are errors.</summary>
public sealed class CodedItem
{
    public required string Item { get; init; }

    public Dictionary<string, string> Values { get; init; } = [];

    /// <summary>Used when the item is absent (not when it has an unknown value).</summary>
    public string? Default { get; init; }
}

public sealed class SubjectMapping
{
    public string? EnrollmentDate { get; init; }

    public string? EndDate { get; init; }

    public CodedItem? Arm { get; init; }

    /// <summary>Values are research-subject-status codes.</summary>
    public CodedItem? Status { get; init; }

    /// <summary>Values are administrative-gender codes.</summary>
    public CodedItem? Sex { get; init; }

    /// <summary>The year of birth only (the profile forbids a full date); a full date is cut to its year.</summary>
    public string? BirthYear { get; init; }
}

/// <summary>The study intervention as a Procedure: the suspect entity adverse events are assessed against.</summary>
public sealed class TreatmentMapping
{
    public required string DateItem { get; init; }

    public required CodingSpec Code { get; init; }
}

public sealed class CodingSpec
{
    public required string System { get; init; }

    public required string Code { get; init; }

    public string? Display { get; init; }
}

public sealed class ObservationMapping
{
    /// <summary>Short name, part of the observation's business identifier (subject/visit/name).</summary>
    public required string Name { get; init; }

    /// <summary>Profile name under profileBase, or a full canonical.</summary>
    public string? Profile { get; init; }

    public required CodingSpec Code { get; init; }

    public string? Item { get; init; }

    /// <summary>integer or quantity.</summary>
    public string ValueType { get; init; } = "quantity";

    public string? Unit { get; init; }

    public string? UnitDisplay { get; init; }

    public decimal? Min { get; init; }

    public decimal? Max { get; init; }

    public List<ComponentMapping> Components { get; init; } = [];
}

public sealed class ComponentMapping
{
    public required string Item { get; init; }

    public required CodingSpec Code { get; init; }

    public required string Unit { get; init; }

    public string? UnitDisplay { get; init; }

    public decimal? Min { get; init; }

    public decimal? Max { get; init; }

    /// <summary>right or left: the limb-side extension.</summary>
    public string? Side { get; init; }
}

/// <summary>A group whose repeats are measurements of the visit they are in (e.g. several ulcer areas at one visit).</summary>
public sealed class RepeatedMeasurementMapping
{
    /// <summary>The ODM ItemGroupOID or REDCap repeating instrument (redcap_repeat_instrument).</summary>
    public required string Group { get; init; }

    /// <summary>Item with the measurement's own date (Observation.effective); default the visit date.</summary>
    public string? DateItem { get; init; }
}

public sealed class AdverseEventMapping
{
    /// <summary>The ODM ItemGroupOID or REDCap repeating instrument that holds one adverse event per repeat.</summary>
    public required string Group { get; init; }

    /// <summary>Item with the AE number; default the group's repeat key.</summary>
    public string? Sequence { get; init; }

    public required string Term { get; init; }

    /// <summary>Item with the CTCAE term's NCIt code (optional).</summary>
    public string? TermCode { get; init; }

    public string TermSystem { get; init; } = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl";

    public required string StartDate { get; init; }

    /// <summary>Values are NCIt CTCAE grade codes (C41338 ... C48275).</summary>
    public required CodedItem Grade { get; init; }

    /// <summary>Values are Serious or Non-serious.</summary>
    public required CodedItem Serious { get; init; }

    /// <summary>Values are NCIt relatedness codes (C53256 ... C53260).</summary>
    public CodedItem? Relatedness { get; init; }

    /// <summary>Values are R4 adverse-event-outcome codes.</summary>
    public required CodedItem Outcome { get; init; }
}
