using Hl7.Fhir.Model;
using Hl7.Fhir.Utility;

namespace FhirTrialGateway.Mapping.Edc;

/// <summary>
/// One subject's EDC data to the resources of its transaction: Patient (pseudonymous: the subject key only),
/// ResearchSubject, the study treatment Procedure, one Encounter per protocol visit, the Observations of the
/// mapping, and AdverseEvents. Every write is keyed on a business identifier (subject, visit, item; AE number),
/// so re-importing an updated export changes what changed and duplicates nothing.
/// </summary>
public sealed class SubjectMapper
{
    private const string Ucum = "http://unitsofmeasure.org";
    private const string StudyExtension = "http://hl7.org/fhir/StructureDefinition/workflow-researchStudy";
    private const string GradeExtension = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/ae-grade";
    private const string SubjectExtension = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/research-subject-ref";
    private const string LimbSideExtension = "https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/limb-side";
    private const string Nci = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl";

    private static readonly Dictionary<string, string> GradeSeverity = new(StringComparer.Ordinal)
    {
        ["C41338"] = "mild", ["C41339"] = "moderate", ["C41340"] = "severe",
    };

    private static readonly Dictionary<string, string> RelatednessDisplay = new(StringComparer.Ordinal)
    {
        ["C53256"] = "Unrelated", ["C53257"] = "Unlikely Related", ["C53258"] = "Possibly Related",
        ["C53259"] = "Probably Related", ["C53260"] = "Definitely Related",
    };

    private static readonly Dictionary<string, string> OutcomeDisplay = new(StringComparer.Ordinal)
    {
        ["resolved"] = "Resolved", ["recovering"] = "Recovering", ["ongoing"] = "Ongoing",
        ["resolvedWithSequelae"] = "Resolved with Sequelae", ["fatal"] = "Fatal", ["unknown"] = "Unknown",
    };

    private readonly TrialMapping _mapping;
    private readonly string _study;
    private readonly HashSet<string> _known;
    private readonly HashSet<string> _identifying;
    private readonly HashSet<string> _subjectItems;

    public SubjectMapper(TrialMapping mapping, string study, IEnumerable<string>? identifying = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        _mapping = mapping;
        _study = study;
        _known = mapping.KnownItems();
        _identifying = new HashSet<string>(identifying ?? [], StringComparer.Ordinal);
        var s = mapping.Subject;
        _subjectItems = new HashSet<string>(new[] { s.EnrollmentDate, s.EndDate, s.BirthYear, s.Arm?.Item, s.Status?.Item, s.Sex?.Item, mapping.Treatment?.DateItem }
            .OfType<string>(), StringComparer.Ordinal);
    }

    private string StudyReference => $"ResearchStudy?identifier={_mapping.StudyIdentifierSystem}|{_study}";

    public MappedBundle Map(EdcSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return new Run(this, subject).Build();
    }

    private sealed class Run(SubjectMapper owner, EdcSubject subject)
    {
        private readonly TrialMapping _m = owner._mapping;
        private readonly List<ImportIssue> _issues = [];
        private readonly List<MappedResource> _resources = [];
        private readonly string _key = subject.Key;

        public MappedBundle Build()
        {
            var visits = new List<(EdcGroup First, Dictionary<string, EdcValue> Items)>();
            var adverseEvents = new List<(EdcGroup Group, Dictionary<string, EdcValue> Items)>();
            var measurements = new List<(EdcGroup Group, Dictionary<string, EdcValue> Items)>();
            var subjectItems = new Dictionary<string, EdcValue>(StringComparer.Ordinal);
            foreach (var group in subject.Groups)
            {
                var items = Screen(group);
                if (_m.AdverseEvents is { } ae && group.Group == ae.Group)
                {
                    adverseEvents.Add((group, items));
                    continue;
                }

                if (_m.RepeatedMeasurements.Any(r => r.Group == group.Group))
                {
                    measurements.Add((group, items));
                    continue;
                }

                foreach (var (item, value) in items.Where(i => owner._subjectItems.Contains(i.Key)))
                {
                    subjectItems.TryAdd(item, value);
                }

                var visit = visits.FindIndex(v => v.First.Event == group.Event && v.First.EventRepeat == group.EventRepeat);
                if (visit < 0)
                {
                    visits.Add((group, new Dictionary<string, EdcValue>(StringComparer.Ordinal)));
                    visit = visits.Count - 1;
                }

                foreach (var (item, value) in items.Where(i => !owner._subjectItems.Contains(i.Key)))
                {
                    if (visits[visit].Items.TryGetValue(item, out var earlier) && earlier.Value != value.Value)
                    {
                        Error($"item {item} has two values in one visit ('{earlier.Value}' at line {earlier.At.Line}, '{value.Value}')", value.At, group.Event, item);
                    }

                    visits[visit].Items.TryAdd(item, value);
                }
            }

            var patientUrl = Ids.Urn("Patient", _m.Trial, _key);
            AddPatient(subjectItems, patientUrl);
            var researchSubjectUrl = AddResearchSubject(subjectItems, patientUrl);
            var procedureUrl = AddTreatment(subjectItems, patientUrl);
            var encounters = new Dictionary<(string Event, string Repeat), VisitRecord>();
            foreach (var (first, items) in visits)
            {
                if (AddVisit(first, items, patientUrl) is { } record)
                {
                    encounters[(first.Event, first.EventRepeat)] = record;
                }
            }

            foreach (var (group, items) in measurements)
            {
                AddRepeatedMeasurement(group, items, encounters.GetValueOrDefault((group.Event, group.EventRepeat)), patientUrl);
            }

            foreach (var (group, items) in adverseEvents)
            {
                AddAdverseEvent(group, items, patientUrl, researchSubjectUrl, procedureUrl);
            }

            return new MappedBundle(_key, _resources, _issues);
        }

        /// <summary>Drops identifying and ignored items and reports unknown ones; returns the rest by item name.</summary>
        private Dictionary<string, EdcValue> Screen(EdcGroup group)
        {
            var items = new Dictionary<string, EdcValue>(StringComparer.Ordinal);
            foreach (var value in group.Values)
            {
                if (owner._identifying.Contains(value.Item) || _m.IsIdentifying(value.Item))
                {
                    _issues.Add(ImportIssue.Warning($"identifying field {value.Item} dropped (patients are pseudonymous: the subject id only)", null, null, null, value.Item));
                }
                else if (_m.IsIgnored(value.Item))
                {
                    continue;
                }
                else if (!owner._known.Contains(value.Item))
                {
                    Error($"unknown item {value.Item}: the mapping neither maps nor ignores it", value.At, group.Event, value.Item);
                }
                else
                {
                    items.TryAdd(value.Item, value);
                }
            }

            return items;
        }

        private void AddPatient(Dictionary<string, EdcValue> items, string url)
        {
            var patient = new Patient
            {
                Meta = new Meta { Profile = [Profile("trial-patient")] },
                Identifier =
                [
                    new Identifier(_m.SubjectIdSystem, _key)
                    {
                        Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/v2-0203", "ANON", "Anonymous identifier", null),
                    },
                ],
            };
            if (Coded(_m.Subject.Sex, items, null) is { } sex)
            {
                patient.Gender = EnumUtility.ParseLiteral<AdministrativeGender>(sex);
                if (patient.Gender is null)
                {
                    Error($"subject.sex maps to '{sex}', which is not an administrative-gender code", items[_m.Subject.Sex!.Item].At, null, _m.Subject.Sex.Item);
                }
            }

            if (_m.Subject.BirthYear is { } birthItem && items.TryGetValue(birthItem, out var birth))
            {
                // Year only (profile tpat-1): a full date of birth is cut to its year and never sent.
                var year = birth.Value.Length >= 4 ? birth.Value[..4] : birth.Value;
                if (ValueParser.WholeNumber(year, 1900, DateTime.UtcNow.Year, out var error) is { } y)
                {
                    patient.BirthDate = y.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
                }
                else
                {
                    Error($"year of birth {error}", birth.At, null, birthItem);
                }
            }

            Add(patient, Profile("trial-patient"), url, $"Patient?identifier={_m.SubjectIdSystem}|{_key}");
        }

        private string AddResearchSubject(Dictionary<string, EdcValue> items, string patientUrl)
        {
            var system = $"{_m.IdentifierBase}/research-subject";
            var researchSubject = new ResearchSubject
            {
                Meta = new Meta { Profile = [Profile("trial-research-subject")] },
                Identifier = [new Identifier(system, _key)],
                Study = new ResourceReference(owner.StudyReference),
                Individual = new ResourceReference(patientUrl),
            };
            var status = Coded(_m.Subject.Status, items, null) ?? "on-study";
            researchSubject.Status = EnumUtility.ParseLiteral<ResearchSubject.ResearchSubjectStatus>(status);
            if (researchSubject.Status is null)
            {
                Error($"subject.status maps to '{status}', which is not a research-subject-status code", subject.At, null, _m.Subject.Status?.Item);
            }

            var start = Date(_m.Subject.EnrollmentDate, items, null);
            var end = Date(_m.Subject.EndDate, items, null);
            if (start is not null || end is not null)
            {
                researchSubject.Period = new Period { Start = start, End = end };
            }

            if (Coded(_m.Subject.Arm, items, null) is { } arm)
            {
                // The study is referenced by identifier, so the profile's arm invariant cannot see its arms: checked here.
                if (!_m.Arms.Contains(arm, StringComparer.Ordinal))
                {
                    Error($"arm '{arm}' is not an arm of the study ({string.Join(", ", _m.Arms)})", items[_m.Subject.Arm!.Item].At, null, _m.Subject.Arm.Item);
                }

                researchSubject.AssignedArm = arm;
                researchSubject.ActualArm = arm;
            }

            var url = Ids.Urn("ResearchSubject", _m.Trial, _key);
            Add(researchSubject, Profile("trial-research-subject"), url, $"ResearchSubject?identifier={system}|{_key}");
            return url;
        }

        private string? AddTreatment(Dictionary<string, EdcValue> items, string patientUrl)
        {
            if (_m.Treatment is not { } treatment || Date(treatment.DateItem, items, null) is not { } performed)
            {
                return null;
            }

            var system = $"{_m.IdentifierBase}/treatment";
            var procedure = new Procedure
            {
                Identifier = [new Identifier(system, _key)],
                Status = EventStatus.Completed,
                Code = Concept(treatment.Code),
                Subject = new ResourceReference(patientUrl),
                Performed = new FhirDateTime(performed),
                Extension = [StudyLink()],
            };
            var url = Ids.Urn("Procedure", _m.Trial, _key);
            Add(procedure, null, url, $"Procedure?identifier={system}|{_key}");
            return url;
        }

        /// <summary>A visit that became an Encounter: what its repeated measurements key on and refer to.</summary>
        private sealed record VisitRecord(string Code, string Key, string Date, string EncounterUrl);

        /// <summary>The visit's Encounter and Observations; null when the event is no visit or the visit has no date.</summary>
        private VisitRecord? AddVisit(EdcGroup first, Dictionary<string, EdcValue> items, string patientUrl)
        {
            if (!_m.Visits.Events.TryGetValue(first.Event, out var code))
            {
                Error($"study event '{first.Event}' is not in the mapping's visits", first.At, first.Event, null);
                return null;
            }

            if (code is null)
            {
                foreach (var (item, value) in items)
                {
                    Error($"item {item} is in '{first.Event}', which the mapping says is not a visit", value.At, first.Event, item);
                }

                return null;
            }

            var visitKey = first.EventRepeat is "" or "1" ? $"{_key}/{code}" : $"{_key}/{code}/{first.EventRepeat}";
            var observations = _m.Observations.Where(o => items.ContainsKey(o.Item ?? "") || o.Components.Any(c => items.ContainsKey(c.Item))).ToList();
            var date = Date(_m.Visits.DateItem, items, code);
            if (date is null)
            {
                if (observations.Count > 0 && !items.ContainsKey(_m.Visits.DateItem))
                {
                    Error($"visit has data but no date ({_m.Visits.DateItem})", first.At, code, _m.Visits.DateItem);
                }

                return null;
            }

            var visitSystem = $"{_m.IdentifierBase}/visit";
            var encounter = new Encounter
            {
                Meta = new Meta { Profile = [Profile("trial-visit-encounter")] },
                Extension = [StudyLink()],
                Identifier = [new Identifier(visitSystem, visitKey)],
                Status = Encounter.EncounterStatus.Finished,
                Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
                Type = [new CodeableConcept(_m.Visits.System, code)],
                Subject = new ResourceReference(patientUrl),
                Period = new Period { Start = date },
            };
            var encounterUrl = Ids.Urn("Encounter", _m.Trial, visitKey);
            Add(encounter, Profile("trial-visit-encounter"), encounterUrl, $"Encounter?identifier={visitSystem}|{visitKey}");

            foreach (var spec in observations)
            {
                AddObservation(spec, items, code, visitKey, date, patientUrl, encounterUrl);
            }

            return new VisitRecord(code, visitKey, date, encounterUrl);
        }

        /// <summary>
        /// One repeat of a repeated-measurement group: the mapping's Observations of the items it holds, in the visit
        /// of its event, keyed subject/visit/group/repeat/measure so that each repeat is its own resource on re-import.
        /// </summary>
        private void AddRepeatedMeasurement(EdcGroup group, Dictionary<string, EdcValue> items, VisitRecord? visit, string patientUrl)
        {
            var spec = _m.RepeatedMeasurements.First(r => r.Group == group.Group);
            var observations = _m.Observations.Where(o => items.ContainsKey(o.Item ?? "") || o.Components.Any(c => items.ContainsKey(c.Item))).ToList();
            var mapped = observations.SelectMany(o => o.Components.Select(c => c.Item).Append(o.Item)).ToHashSet(StringComparer.Ordinal);
            foreach (var (item, value) in items.Where(i => i.Key != spec.DateItem && !mapped.Contains(i.Key)))
            {
                Error($"item {item} is in repeated measurement group {group.Group}, which maps observations only", value.At, group.Event, item);
            }

            if (observations.Count == 0)
            {
                return;
            }

            if (visit is null)
            {
                // The measurements need their visit's Encounter and date.
                var label = $"{group.Group} repeat {group.GroupRepeat}";
                Error(!_m.Visits.Events.TryGetValue(group.Event, out var code) ? $"{label} is in study event '{group.Event}', which is not in the mapping's visits"
                    : code is null ? $"{label} is in '{group.Event}', which the mapping says is not a visit"
                    : $"{label} is in visit {code}, which has no date ({_m.Visits.DateItem})", group.At, group.Event, null);
                return;
            }

            var date = Date(spec.DateItem, items, visit.Code) ?? visit.Date;
            foreach (var observation in observations)
            {
                AddObservation(observation, items, visit.Code, $"{visit.Key}/{group.Group}/{group.GroupRepeat}", date, patientUrl, visit.EncounterUrl);
            }
        }

        private void AddObservation(ObservationMapping spec, Dictionary<string, EdcValue> items, string visit, string visitKey, string date,
            string patientUrl, string encounterUrl)
        {
            var profile = spec.Profile is null ? Profile("trial-observation") : Profile(spec.Profile);
            var observation = new Observation
            {
                Meta = new Meta { Profile = [profile] },
                Extension = [StudyLink()],
                Status = ObservationStatus.Final,
                Code = Concept(spec.Code),
                Subject = new ResourceReference(patientUrl),
                Encounter = new ResourceReference(encounterUrl),
                Effective = new FhirDateTime(date),
            };
            var errors = _issues.Count(i => i.IsError);
            if (spec.Item is { } item)
            {
                var value = items[item];
                if (spec.ValueType == "integer")
                {
                    observation.Value = ValueParser.WholeNumber(value.Value, spec.Min, spec.Max, out var error) is { } n ? new Integer(n) : null;
                    ReportValue(error, value, visit, spec.Name);
                }
                else
                {
                    observation.Value = Quantity(value, spec.Min, spec.Max, spec.Unit, spec.UnitDisplay, visit, spec.Name);
                }
            }

            foreach (var component in spec.Components.Where(c => items.ContainsKey(c.Item)))
            {
                var value = items[component.Item];
                var part = new Observation.ComponentComponent
                {
                    Code = Concept(component.Code),
                    Value = Quantity(value, component.Min, component.Max, component.Unit, component.UnitDisplay, visit, spec.Name),
                };
                if (component.Side is { } side)
                {
                    part.Extension.Add(new Extension(LimbSideExtension, side == "right"
                        ? new CodeableConcept("http://snomed.info/sct", "24028007", "Right", null)
                        : new CodeableConcept("http://snomed.info/sct", "7771000", "Left", null)));
                }

                observation.Component.Add(part);
            }

            if (_issues.Count(i => i.IsError) > errors)
            {
                return; // The value errors name the item; a half-built observation would only add noise.
            }

            var system = $"{_m.IdentifierBase}/observation";
            var key = $"{visitKey}/{spec.Name}";
            observation.Identifier = [new Identifier(system, key)];
            Add(observation, profile, Ids.Urn("Observation", _m.Trial, key), $"Observation?identifier={system}|{key}");
        }

        private Quantity? Quantity(EdcValue value, decimal? min, decimal? max, string? unit, string? display, string visit, string measure)
        {
            var number = ValueParser.Number(value.Value, min, max, out var error);
            ReportValue(error, value, visit, measure);
            return number is null ? null : new Quantity { Value = number, Unit = display ?? unit, System = unit is null ? null : Ucum, Code = unit };
        }

        private void ReportValue(string? error, EdcValue value, string visit, string measure)
        {
            if (error is not null)
            {
                Error($"{measure}: {error}", value.At, visit, value.Item);
            }
        }

        private void AddAdverseEvent(EdcGroup group, Dictionary<string, EdcValue> items, string patientUrl, string researchSubjectUrl, string? procedureUrl)
        {
            var spec = _m.AdverseEvents!;
            var sequence = spec.Sequence is not null && items.TryGetValue(spec.Sequence, out var seq) ? seq.Value : group.GroupRepeat;
            var label = $"adverse event {sequence}";
            var errors = _issues.Count(i => i.IsError);
            string? Required(string item, string what)
            {
                if (items.TryGetValue(item, out var v))
                {
                    return v.Value;
                }

                Error($"{label} has no {what} ({item})", group.At, group.Event, item);
                return null;
            }

            var term = Required(spec.Term, "term");
            var date = items.ContainsKey(spec.StartDate) ? Date(spec.StartDate, items, group.Event) : Required(spec.StartDate, "start date");
            var grade = Coded(spec.Grade, items, group.Event) ?? MissingCoded(spec.Grade, label, "CTCAE grade", group);
            var serious = Coded(spec.Serious, items, group.Event) ?? MissingCoded(spec.Serious, label, "seriousness", group);
            var outcome = Coded(spec.Outcome, items, group.Event) ?? MissingCoded(spec.Outcome, label, "outcome", group);
            var related = Coded(spec.Relatedness, items, group.Event);
            if (related is not null && procedureUrl is null)
            {
                Error($"{label} has a relatedness but the subject has no study treatment ({_m.Treatment?.DateItem ?? "no treatment in the mapping"}) to relate it to",
                    items[spec.Relatedness!.Item].At, group.Event, spec.Relatedness.Item);
            }

            if (_issues.Count(i => i.IsError) > errors)
            {
                return;
            }

            // R4 4.0.1 spells seriousness with a capital; newer terminology uses lower case: normalise.
            serious = serious!.Equals("serious", StringComparison.OrdinalIgnoreCase) ? "Serious" : serious.Equals("non-serious", StringComparison.OrdinalIgnoreCase) ? "Non-serious" : serious;
            var adverseEvent = new AdverseEvent
            {
                Id = Ids.Readable(_m.Trial, _key, "ae", sequence),
                Meta = new Meta { Profile = [Profile("trial-adverse-event")] },
                Extension =
                [
                    new Extension(GradeExtension, new CodeableConcept(Nci, grade)),
                    new Extension(SubjectExtension, new ResourceReference(researchSubjectUrl)),
                ],
                Identifier = new Identifier($"{_m.IdentifierBase}/adverse-event", $"{_key}/{sequence}"),
                Actuality = AdverseEvent.AdverseEventActuality.Actual,
                Event = new CodeableConcept { Text = term },
                Subject = new ResourceReference(patientUrl),
                Date = date,
                Seriousness = new CodeableConcept("http://terminology.hl7.org/CodeSystem/adverse-event-seriousness", serious, serious, null),
                Outcome = new CodeableConcept("http://terminology.hl7.org/CodeSystem/adverse-event-outcome", outcome, OutcomeDisplay.GetValueOrDefault(outcome!), null),
                Study = [new ResourceReference(owner.StudyReference)],
            };
            if (spec.TermCode is { } codeItem && items.TryGetValue(codeItem, out var termCode))
            {
                adverseEvent.Event.Coding.Add(new Coding(spec.TermSystem, termCode.Value, term));
            }

            // Core severity has mild/moderate/severe only: grades 4 and 5 leave it empty (profile tae-1, tae-2).
            if (GradeSeverity.TryGetValue(grade!, out var severity))
            {
                adverseEvent.Severity = new CodeableConcept("http://terminology.hl7.org/CodeSystem/adverse-event-severity", severity);
            }

            if (related is not null)
            {
                adverseEvent.SuspectEntity.Add(new AdverseEvent.SuspectEntityComponent
                {
                    Instance = new ResourceReference(procedureUrl),
                    Causality = [new AdverseEvent.CausalityComponent { Assessment = new CodeableConcept(Nci, related, RelatednessDisplay.GetValueOrDefault(related), null) }],
                });
            }

            Add(adverseEvent, Profile("trial-adverse-event"), Ids.Urn("AdverseEvent", adverseEvent.Id), $"AdverseEvent/{adverseEvent.Id}");
        }

        private string? MissingCoded(CodedItem spec, string label, string what, EdcGroup group)
        {
            // Coded returned null: either an unknown value (already reported) or the item is absent.
            if (!group.Values.Any(v => v.Item == spec.Item))
            {
                Error($"{label} has no {what} ({spec.Item})", group.At, group.Event, spec.Item);
            }

            return null;
        }

        private string? Coded(CodedItem? spec, Dictionary<string, EdcValue> items, string? visit)
        {
            if (spec is null)
            {
                return null;
            }

            if (!items.TryGetValue(spec.Item, out var value))
            {
                return spec.Default;
            }

            if (spec.Values.TryGetValue(value.Value, out var code))
            {
                return code;
            }

            Error($"'{value.Value}' is not a value the mapping knows for {spec.Item} (one of: {string.Join(", ", spec.Values.Keys)})", value.At, visit, spec.Item);
            return null;
        }

        private string? Date(string? item, Dictionary<string, EdcValue> items, string? visit)
        {
            if (item is null || !items.TryGetValue(item, out var value))
            {
                return null;
            }

            var date = ValueParser.DateTime(value.Value, out var error);
            if (error is not null)
            {
                Error(error, value.At, visit, item);
            }

            return date;
        }

        private Extension StudyLink() => new(StudyExtension, new ResourceReference(owner.StudyReference));

        private string Profile(string name) => name.StartsWith("http", StringComparison.Ordinal) ? name : _m.ProfileBase + name;

        private static CodeableConcept Concept(CodingSpec spec) => new(spec.System, spec.Code, spec.Display, null);

        private void Add(Resource resource, string? profile, string url, string request) =>
            _resources.Add(new MappedResource(resource, profile, url, request));

        private void Error(string message, SourceLocation? at, string? visit, string? item) =>
            _issues.Add(ImportIssue.Error(message, at, _key, visit, item));
    }
}
