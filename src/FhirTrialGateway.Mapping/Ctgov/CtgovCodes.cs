namespace FhirTrialGateway.Mapping.Ctgov;

/// <summary>
/// The deliberate mapping of every ClinicalTrials.gov API v2 enumeration the registry import reads
/// (ctg-oas-v2.yaml, the same tables as docs/mapping.md). A value missing here is an import error, never a guess:
/// the API may grow new values, and each needs a decision.
/// </summary>
public static class CtgovCodes
{
    public const string NctSystem = "https://clinicaltrials.gov/nctid";
    public const string PhaseSystem = "http://terminology.hl7.org/CodeSystem/research-study-phase";
    public const string PurposeSystem = "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type";
    public const string ObjectiveSystem = "http://terminology.hl7.org/CodeSystem/research-study-objective-type";
    public const string OrganizationTypeSystem = "http://terminology.hl7.org/CodeSystem/organization-type";

    /// <summary>overallStatus to R4 ResearchStudy.status. Null: the status has no R4 equivalent (see <see cref="StatusNote"/>).</summary>
    public static readonly IReadOnlyDictionary<string, string?> Status = new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["NOT_YET_RECRUITING"] = "approved",
        ["RECRUITING"] = "active",
        ["ENROLLING_BY_INVITATION"] = "active",
        ["ACTIVE_NOT_RECRUITING"] = "closed-to-accrual",
        ["SUSPENDED"] = "temporarily-closed-to-accrual",
        ["TERMINATED"] = "administratively-completed",
        ["COMPLETED"] = "completed",
        ["WITHDRAWN"] = "withdrawn",
        // Expanded-access records.
        ["AVAILABLE"] = "active",
        ["TEMPORARILY_NOT_AVAILABLE"] = "temporarily-closed-to-accrual",
        ["NO_LONGER_AVAILABLE"] = "closed-to-accrual",
        ["APPROVED_FOR_MARKETING"] = "completed",
        // UNKNOWN: the registry has not verified the status for two years; lastKnownStatus is mapped instead and
        // the record says so in a category. WITHHELD: the registry withholds the status; R4 has nothing to say it.
        ["UNKNOWN"] = null,
        ["WITHHELD"] = null,
    };

    /// <summary>A single phase, or a sorted '+'-joined combination, to research-study-phase (code, display).</summary>
    public static readonly IReadOnlyDictionary<string, (string Code, string Display)> Phase = new Dictionary<string, (string, string)>(StringComparer.Ordinal)
    {
        ["NA"] = ("n-a", "N/A"),
        ["EARLY_PHASE1"] = ("early-phase-1", "Early Phase 1"),
        ["PHASE1"] = ("phase-1", "Phase 1"),
        ["PHASE1+PHASE2"] = ("phase-1-phase-2", "Phase 1/Phase 2"),
        ["PHASE2"] = ("phase-2", "Phase 2"),
        ["PHASE2+PHASE3"] = ("phase-2-phase-3", "Phase 2/Phase 3"),
        ["PHASE3"] = ("phase-3", "Phase 3"),
        ["PHASE4"] = ("phase-4", "Phase 4"),
    };

    /// <summary>designInfo.primaryPurpose to research-study-prim-purp-type. Null: no R4 code (the element stays absent).</summary>
    public static readonly IReadOnlyDictionary<string, string?> PrimaryPurpose = new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["TREATMENT"] = "treatment",
        ["PREVENTION"] = "prevention",
        ["DIAGNOSTIC"] = "diagnostic",
        ["SUPPORTIVE_CARE"] = "supportive-care",
        ["SCREENING"] = "screening",
        ["HEALTH_SERVICES_RESEARCH"] = "health-services-research",
        ["BASIC_SCIENCE"] = "basic-science",
        ["DEVICE_FEASIBILITY"] = "device-feasibility",
        ["ECT"] = null,
        ["OTHER"] = null,
    };

    // The profile keeps category as text until a local code system exists (profiles/README.md, "Not modelled yet").
    public static readonly IReadOnlyDictionary<string, string> StudyType = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["INTERVENTIONAL"] = "Interventional",
        ["OBSERVATIONAL"] = "Observational",
        ["EXPANDED_ACCESS"] = "Expanded access",
    };

    public static readonly IReadOnlyDictionary<string, string> Allocation = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["RANDOMIZED"] = "Randomized allocation",
        ["NON_RANDOMIZED"] = "Non-randomized allocation",
        ["NA"] = "Allocation not applicable",
    };

    public static readonly IReadOnlyDictionary<string, string> InterventionModel = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["SINGLE_GROUP"] = "Single group assignment",
        ["PARALLEL"] = "Parallel assignment",
        ["CROSSOVER"] = "Crossover assignment",
        ["FACTORIAL"] = "Factorial assignment",
        ["SEQUENTIAL"] = "Sequential assignment",
    };

    public static readonly IReadOnlyDictionary<string, string> Masking = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["NONE"] = "No masking",
        ["SINGLE"] = "Single masking",
        ["DOUBLE"] = "Double masking",
        ["TRIPLE"] = "Triple masking",
        ["QUADRUPLE"] = "Quadruple masking",
    };

    public static readonly IReadOnlyDictionary<string, string> WhoMasked = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["PARTICIPANT"] = "Participant",
        ["CARE_PROVIDER"] = "Care provider",
        ["INVESTIGATOR"] = "Investigator",
        ["OUTCOMES_ASSESSOR"] = "Outcomes assessor",
    };

    public static readonly IReadOnlyDictionary<string, string> ArmType = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["EXPERIMENTAL"] = "Experimental",
        ["ACTIVE_COMPARATOR"] = "Active comparator",
        ["PLACEBO_COMPARATOR"] = "Placebo comparator",
        ["SHAM_COMPARATOR"] = "Sham comparator",
        ["NO_INTERVENTION"] = "No intervention",
        ["OTHER"] = "Other",
    };

    public static readonly IReadOnlyDictionary<string, string> OfficialRole = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["PRINCIPAL_INVESTIGATOR"] = "Principal investigator",
        ["SUB_INVESTIGATOR"] = "Sub-investigator",
        ["STUDY_CHAIR"] = "Study chair",
        ["STUDY_DIRECTOR"] = "Study director",
    };

    /// <summary>Sponsor agency class to organization-type: governments are govt, industry bus, the rest other.</summary>
    public static readonly IReadOnlyDictionary<string, string> AgencyClass = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["NIH"] = "govt",
        ["FED"] = "govt",
        ["OTHER_GOV"] = "govt",
        ["INDUSTRY"] = "bus",
        ["NETWORK"] = "other",
        ["INDIV"] = "other",
        ["AMBIG"] = "other",
        ["OTHER"] = "other",
        ["UNKNOWN"] = "other",
    };

    public static readonly IReadOnlyDictionary<string, string> EnrollmentType = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ACTUAL"] = "Actual",
        ["ESTIMATED"] = "Estimated",
    };
}
