using System.Text.Json;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Group = Hl7.Fhir.Model.Group;

namespace FhirTrialGateway.Mapping.Ctgov;

/// <summary>
/// A ClinicalTrials.gov API v2 study record (JSON) to a transaction Bundle: the ResearchStudy (conditional update on
/// its NCT number), its enrollment Group, sponsor and collaborator Organizations, officials as Practitioner and
/// PractitionerRole, and one Location per site (updates of deterministic ids derived from names). Only what the
/// record says is written; an enumeration value without a decided mapping is an error naming its JSON path.
/// </summary>
public static partial class CtgovStudyMapper
{
    public const string StudyProfile = "https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/trial-research-study";
    public const string GroupProfile = "https://fhirtrialgateway.org/fhir/epc-cli/StructureDefinition/trial-enrollment-group";

    [GeneratedRegex("^NCT[0-9]{8}$")]
    private static partial Regex NctPattern();

    public static MappedBundle Map(Stream json, string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ImportInputException(ImportIssue.Error($"Not valid JSON: {ex.Message}",
                new SourceLocation(file, (int?)ex.LineNumber + 1, ex.Path)));
        }

        using (document)
        {
            return new Builder(file).Build(document.RootElement);
        }
    }

    private sealed class Builder(string file)
    {
        private readonly List<ImportIssue> _issues = [];
        private readonly List<MappedResource> _resources = [];
        private string _nct = "";

        public MappedBundle Build(JsonElement root)
        {
            var protocol = Child(root, "protocolSection");
            if (protocol is not { } p)
            {
                throw new ImportInputException(Error("The record has no protocolSection: not a ClinicalTrials.gov API v2 study.", "$"));
            }

            var id = Child(p, "identificationModule");
            _nct = Text(id, "nctId") ?? "";
            if (!NctPattern().IsMatch(_nct))
            {
                throw new ImportInputException(Error($"'{_nct}' is not an NCT number (NCT and 8 digits).", "$.protocolSection.identificationModule.nctId"));
            }

            var study = new ResearchStudy
            {
                Meta = new Meta { Profile = [StudyProfile] },
                Identifier = [new Identifier(CtgovCodes.NctSystem, _nct) { Use = Identifier.IdentifierUse.Official }],
            };
            AddSecondaryIdentifiers(study, id);
            study.Title = Text(id, "officialTitle") ?? Text(id, "briefTitle");
            MapStatus(study, Child(p, "statusModule"));
            MapDesign(study, Child(p, "designModule"));
            MapConditions(study, Child(p, "conditionsModule"));
            MapArms(study, Child(p, "armsInterventionsModule"));
            MapOutcomes(study, Child(p, "outcomesModule"));
            MapDescription(study, Child(p, "descriptionModule"));
            MapSponsors(study, Child(p, "sponsorCollaboratorsModule"));
            MapContacts(study, Child(p, "contactsLocationsModule"), Child(p, "sponsorCollaboratorsModule"));

            var studyUrl = Ids.Urn("ResearchStudy", _nct);
            _resources.Insert(0, new MappedResource(study, StudyProfile, studyUrl,
                $"ResearchStudy?identifier={CtgovCodes.NctSystem}|{_nct}"));
            return new MappedBundle(_nct, _resources, _issues);
        }

        private static void AddSecondaryIdentifiers(ResearchStudy study, JsonElement? id)
        {
            // Sponsor and secondary ids have no system URI in the registry: kept with their assigner, system absent.
            if (Child(id, "orgStudyIdInfo") is { } org && Text(org, "id") is { } orgId)
            {
                study.Identifier.Add(new Identifier { Use = Identifier.IdentifierUse.Secondary, Value = orgId,
                    Assigner = Text(Child(id, "organization"), "fullName") is { } assigner ? new ResourceReference { Display = assigner } : null });
            }

            foreach (var secondary in Array(id, "secondaryIdInfos"))
            {
                if (Text(secondary, "id") is { } value)
                {
                    study.Identifier.Add(new Identifier
                    {
                        Use = Identifier.IdentifierUse.Secondary,
                        Value = value,
                        Type = Text(secondary, "type") is { } type ? new CodeableConcept { Text = type } : null,
                        Assigner = Text(secondary, "domain") is { } domain ? new ResourceReference { Display = domain } : null,
                    });
                }
            }
        }

        private void MapStatus(ResearchStudy study, JsonElement? status)
        {
            const string path = "$.protocolSection.statusModule";
            var overall = Text(status, "overallStatus");
            if (overall is null)
            {
                _issues.Add(Error("overallStatus is missing; R4 ResearchStudy.status is required.", path));
            }
            else if (!CtgovCodes.Status.TryGetValue(overall, out var code))
            {
                _issues.Add(Error($"overallStatus '{overall}' has no mapping (see docs/mapping.md).", path + ".overallStatus"));
            }
            else if (code is not null)
            {
                study.Status = Enum(code);
            }
            else if (overall == "UNKNOWN" && Text(status, "lastKnownStatus") is { } last && CtgovCodes.Status.GetValueOrDefault(last) is { } lastCode)
            {
                // The registry's own meaning of UNKNOWN: "last known status X, not verified for over two years".
                study.Status = Enum(lastCode);
                study.Category.Add(new CodeableConcept { Text = $"Registry status unknown (not verified since {Text(status, "statusVerifiedDate") ?? "?"}); last known {last}" });
            }
            else
            {
                _issues.Add(Error($"overallStatus '{overall}' has no R4 ResearchStudy.status equivalent and no usable lastKnownStatus.", path + ".overallStatus"));
            }

            var start = Text(Child(status, "startDateStruct"), "date");
            var completion = Child(status, "completionDateStruct");
            // An estimated completion date is a plan, not the end of the study: period.end only for ACTUAL.
            var end = Text(completion, "type") == "ACTUAL" ? Text(completion, "date") : null;
            if (start is not null || end is not null)
            {
                study.Period = new Period { Start = start, End = end };
            }

            if (Text(status, "whyStopped") is { } why)
            {
                study.ReasonStopped = new CodeableConcept { Text = why };
            }
        }

        private static ResearchStudy.ResearchStudyStatus Enum(string code) =>
            Hl7.Fhir.Utility.EnumUtility.ParseLiteral<ResearchStudy.ResearchStudyStatus>(code)
            ?? throw new InvalidOperationException($"'{code}' is not an R4 ResearchStudy.status.");

        private void MapDesign(ResearchStudy study, JsonElement? design)
        {
            const string path = "$.protocolSection.designModule";
            AddCategory(study, Text(design, "studyType"), CtgovCodes.StudyType, path + ".studyType");

            var phases = Array(design, "phases").Select(e => e.GetString() ?? "").Order(StringComparer.Ordinal).ToList();
            if (phases.Count > 0)
            {
                var key = string.Join("+", phases);
                if (CtgovCodes.Phase.TryGetValue(key, out var phase))
                {
                    study.Phase = new CodeableConcept(CtgovCodes.PhaseSystem, phase.Code, phase.Display, null);
                }
                else
                {
                    _issues.Add(Error($"phases [{string.Join(", ", phases)}] have no research-study-phase code.", path + ".phases"));
                }
            }

            var info = Child(design, "designInfo");
            if (Text(info, "primaryPurpose") is { } purpose)
            {
                if (!CtgovCodes.PrimaryPurpose.TryGetValue(purpose, out var code))
                {
                    _issues.Add(Error($"primaryPurpose '{purpose}' has no mapping.", path + ".designInfo.primaryPurpose"));
                }
                else if (code is not null)
                {
                    study.PrimaryPurposeType = new CodeableConcept(CtgovCodes.PurposeSystem, code);
                }
            }

            AddCategory(study, Text(info, "allocation"), CtgovCodes.Allocation, path + ".designInfo.allocation");
            AddCategory(study, Text(info, "interventionModel"), CtgovCodes.InterventionModel, path + ".designInfo.interventionModel");
            if (Text(info, "observationalModel") is { } model)
            {
                study.Category.Add(new CodeableConcept { Text = $"Observational model: {model}" });
            }

            var masking = Child(info, "maskingInfo");
            if (Text(masking, "masking") is { } mask)
            {
                if (CtgovCodes.Masking.TryGetValue(mask, out var text))
                {
                    var who = new List<string>();
                    foreach (var w in Array(masking, "whoMasked").Select(e => e.GetString() ?? ""))
                    {
                        if (CtgovCodes.WhoMasked.TryGetValue(w, out var label))
                        {
                            who.Add(label);
                        }
                        else
                        {
                            _issues.Add(Error($"whoMasked '{w}' has no mapping.", path + ".designInfo.maskingInfo.whoMasked"));
                        }
                    }

                    study.Category.Add(new CodeableConcept { Text = who.Count > 0 ? $"{text} ({string.Join(", ", who)})" : text });
                }
                else
                {
                    _issues.Add(Error($"masking '{mask}' has no mapping.", path + ".designInfo.maskingInfo.masking"));
                }
            }

            MapEnrollment(study, Child(design, "enrollmentInfo"));
        }

        private void MapEnrollment(ResearchStudy study, JsonElement? enrollment)
        {
            if (Child(enrollment, "count") is not { ValueKind: JsonValueKind.Number } count)
            {
                return;
            }

            var type = Text(enrollment, "type");
            string? kind = null;
            if (type is not null && !CtgovCodes.EnrollmentType.TryGetValue(type, out kind))
            {
                _issues.Add(Error($"enrollmentInfo.type '{type}' has no mapping.", "$.protocolSection.designModule.enrollmentInfo.type"));
            }

            // A descriptive group (actual = false): the count is the registry's, members are never listed here.
            var group = new Group
            {
                Id = Ids.Hashed("ctgov-enrollment", _nct),
                Meta = new Meta { Profile = [GroupProfile] },
                Type = Group.GroupType.Person,
                Actual = false,
                Quantity = count.GetInt32(),
                Name = kind is null ? $"Enrollment of {_nct}" : $"{kind} enrollment of {_nct}",
            };
            AddResource(group, GroupProfile);
            study.Enrollment.Add(new ResourceReference($"Group/{group.Id}"));
        }

        private static void MapConditions(ResearchStudy study, JsonElement? conditions)
        {
            // The registry gives free text; codes (MeSH in derivedSection) describe the record as a whole, not each
            // condition, so they are not attached to one.
            foreach (var condition in Array(conditions, "conditions").Select(e => e.GetString()).OfType<string>())
            {
                study.Condition.Add(new CodeableConcept { Text = condition });
            }

            foreach (var keyword in Array(conditions, "keywords").Select(e => e.GetString()).OfType<string>())
            {
                study.Keyword.Add(new CodeableConcept { Text = keyword });
            }
        }

        private void MapArms(ResearchStudy study, JsonElement? arms)
        {
            var index = 0;
            foreach (var arm in Array(arms, "armGroups"))
            {
                var path = $"$.protocolSection.armsInterventionsModule.armGroups[{index++}]";
                var component = new ResearchStudy.ArmComponent { Name = Text(arm, "label"), Description = Text(arm, "description") };
                if (Text(arm, "type") is { } type)
                {
                    if (CtgovCodes.ArmType.TryGetValue(type, out var text))
                    {
                        component.Type = new CodeableConcept { Text = text };
                    }
                    else
                    {
                        _issues.Add(Error($"arm type '{type}' has no mapping.", path + ".type"));
                    }
                }

                study.Arm.Add(component);
            }
        }

        private static void MapOutcomes(ResearchStudy study, JsonElement? outcomes)
        {
            // R4 objective has a name only: the measure, its description and time frame are kept in it as text.
            foreach (var (list, type) in new[] { ("primaryOutcomes", "primary"), ("secondaryOutcomes", "secondary"), ("otherOutcomes", "exploratory") })
            {
                foreach (var outcome in Array(outcomes, list))
                {
                    var parts = new[] { Text(outcome, "measure"), Text(outcome, "description") }.OfType<string>().ToList();
                    var name = string.Join(": ", parts);
                    if (Text(outcome, "timeFrame") is { } frame)
                    {
                        name += $" (time frame: {frame})";
                    }

                    study.Objective.Add(new ResearchStudy.ObjectiveComponent
                    {
                        Name = name,
                        Type = new CodeableConcept(CtgovCodes.ObjectiveSystem, type),
                    });
                }
            }
        }

        private static void MapDescription(ResearchStudy study, JsonElement? description)
        {
            var text = string.Join("\n\n", new[] { Text(description, "briefSummary"), Text(description, "detailedDescription") }.OfType<string>());
            study.Description = text.Length == 0 ? null : new Markdown(text);
        }

        private void MapSponsors(ResearchStudy study, JsonElement? sponsors)
        {
            if (Child(sponsors, "leadSponsor") is { } lead && Organization(lead, "$.protocolSection.sponsorCollaboratorsModule.leadSponsor") is { } leadId)
            {
                study.Sponsor = new ResourceReference($"Organization/{leadId}");
            }

            // R4 ResearchStudy has no collaborator element: collaborators become Organizations of their own.
            var index = 0;
            foreach (var collaborator in Array(sponsors, "collaborators"))
            {
                Organization(collaborator, $"$.protocolSection.sponsorCollaboratorsModule.collaborators[{index++}]");
            }
        }

        private string? Organization(JsonElement agency, string path)
        {
            if (Text(agency, "name") is not { } name)
            {
                return null;
            }

            var organization = new Organization { Id = Ids.Hashed("ctgov-org", name.Trim().ToUpperInvariant()), Name = name };
            if (Text(agency, "class") is { } agencyClass)
            {
                if (CtgovCodes.AgencyClass.TryGetValue(agencyClass, out var code))
                {
                    organization.Type.Add(new CodeableConcept(CtgovCodes.OrganizationTypeSystem, code) { Text = $"ClinicalTrials.gov agency class {agencyClass}" });
                }
                else
                {
                    _issues.Add(Error($"agency class '{agencyClass}' has no mapping.", path + ".class"));
                }
            }

            AddResource(organization, null);
            return organization.Id;
        }

        private void MapContacts(ResearchStudy study, JsonElement? contacts, JsonElement? sponsors)
        {
            var index = 0;
            foreach (var official in Array(contacts, "overallOfficials"))
            {
                var path = $"$.protocolSection.contactsLocationsModule.overallOfficials[{index++}]";
                var role = Text(official, "role");
                string? roleText = null;
                if (role is not null && !CtgovCodes.OfficialRole.TryGetValue(role, out roleText))
                {
                    _issues.Add(Error($"official role '{role}' has no mapping.", path + ".role"));
                    continue;
                }

                var practitioner = Official(Text(official, "name"), Text(official, "affiliation"), roleText);
                // R4 has one principalInvestigator: the first one listed; every official keeps a PractitionerRole.
                if (role == "PRINCIPAL_INVESTIGATOR" && practitioner is not null && study.PrincipalInvestigator is null)
                {
                    study.PrincipalInvestigator = new ResourceReference($"Practitioner/{practitioner}");
                }
            }

            // Without a listed official, a responsible party that is the principal investigator names one.
            var responsible = Child(sponsors, "responsibleParty");
            if (study.PrincipalInvestigator is null && Text(responsible, "type") == "PRINCIPAL_INVESTIGATOR" &&
                Official(Text(responsible, "investigatorFullName"), Text(responsible, "investigatorAffiliation"), "Principal investigator") is { } pi)
            {
                study.PrincipalInvestigator = new ResourceReference($"Practitioner/{pi}");
            }

            foreach (var location in Array(contacts, "locations"))
            {
                study.Site.Add(new ResourceReference($"Location/{Location(location)}"));
            }
        }

        private string? Official(string? name, string? affiliation, string? role)
        {
            if (name is null)
            {
                return null;
            }

            var practitioner = new Practitioner { Id = Ids.Hashed("ctgov-prac", name, affiliation), Name = [new HumanName { Text = name }] };
            AddResource(practitioner, null);
            var practitionerRole = new PractitionerRole
            {
                Id = Ids.Hashed("ctgov-role", _nct, name, affiliation, role),
                Practitioner = new ResourceReference($"Practitioner/{practitioner.Id}"),
            };
            if (role is not null)
            {
                practitionerRole.Code.Add(new CodeableConcept { Text = $"{role}, {_nct}" });
            }

            if (affiliation is not null)
            {
                var organization = new Organization { Id = Ids.Hashed("ctgov-org", affiliation.Trim().ToUpperInvariant()), Name = affiliation };
                AddResource(organization, null);
                practitionerRole.Organization = new ResourceReference($"Organization/{organization.Id}");
            }

            AddResource(practitionerRole, null);
            return practitioner.Id;
        }

        private string Location(JsonElement site)
        {
            var facility = Text(site, "facility");
            var address = new Address
            {
                City = Text(site, "city"),
                State = Text(site, "state"),
                PostalCode = Text(site, "zip"),
                Country = Text(site, "country"),
            };
            // A site without a facility name is only a place: keep it to this study rather than share it.
            var location = new Location
            {
                Id = Ids.Hashed("ctgov-site", facility is null ? _nct : null, facility, address.City, address.State, address.PostalCode, address.Country),
                Name = facility,
                Address = address,
            };
            if (Child(site, "geoPoint") is { } geo && Child(geo, "lat") is { ValueKind: JsonValueKind.Number } lat &&
                Child(geo, "lon") is { ValueKind: JsonValueKind.Number } lon)
            {
                location.Position = new Location.PositionComponent { Latitude = lat.GetDecimal(), Longitude = lon.GetDecimal() };
            }

            AddResource(location, null);
            return location.Id;
        }

        private void AddResource(Resource resource, string? profile)
        {
            // The same Organization (a sponsor that is also an affiliation) or site appears once.
            if (_resources.Any(r => r.Resource.TypeName == resource.TypeName && r.Resource.Id == resource.Id))
            {
                return;
            }

            _resources.Add(new MappedResource(resource, profile, Ids.Urn(resource.TypeName, resource.Id), $"{resource.TypeName}/{resource.Id}"));
        }

        private void AddCategory(ResearchStudy study, string? value, IReadOnlyDictionary<string, string> table, string path)
        {
            if (value is null)
            {
                return;
            }

            if (table.TryGetValue(value, out var text))
            {
                study.Category.Add(new CodeableConcept { Text = text });
            }
            else
            {
                _issues.Add(Error($"'{value}' has no mapping.", path));
            }
        }

        private ImportIssue Error(string message, string path) => new(true, message, file, null, path, null, null, null);

        private static JsonElement? Child(JsonElement? element, string name) =>
            element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var child) && child.ValueKind != JsonValueKind.Null ? child : null;

        private static string? Text(JsonElement? element, string name) =>
            Child(element, name) is { ValueKind: JsonValueKind.String } s && s.GetString() is { Length: > 0 } text ? text : null;

        private static JsonElement[] Array(JsonElement? element, string name) =>
            Child(element, name) is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray()] : [];
    }
}
