using System.Xml;

namespace FhirTrialGateway.Mapping.Edc;

/// <summary>
/// Streams the clinical data of a CDISC ODM 1.3.x export one subject at a time (XmlReader, so memory does not grow
/// with the file): SubjectData / StudyEventData / FormData / ItemGroupData / ItemData, with line and XPath of every
/// value. Dataset-XML (ItemGroupData directly under ClinicalData) is read too: consecutive rows of the same subject
/// (the <c>subjectItem</c>) make one subject. AdminData (users, sites) and metadata are not imported.
/// </summary>
public static class OdmReader
{
    private const string OdmNamespace = "http://www.cdisc.org/ns/odm/v1.3";

    private static XmlReaderSettings Settings() => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    /// <summary>Reads the whole file once: a malformed file is reported before anything of it is sent.</summary>
    public static void CheckWellFormed(string file)
    {
        using var reader = XmlReader.Create(file, Settings());
        try
        {
            var sawOdm = false;
            while (reader.Read())
            {
                sawOdm |= reader is { NodeType: XmlNodeType.Element, LocalName: "ODM" };
            }

            if (!sawOdm)
            {
                throw new ImportInputException(ImportIssue.Error("No ODM root element: not a CDISC ODM file.", new SourceLocation(file, 1, "/")));
            }
        }
        catch (XmlException ex)
        {
            throw new ImportInputException(ImportIssue.Error($"Malformed XML: {ex.Message}", new SourceLocation(file, ex.LineNumber, null)));
        }
    }

    public static IEnumerable<EdcSubject> ReadSubjects(string file, string datasetSubjectItem = "IT.USUBJID")
    {
        using var reader = XmlReader.Create(file, Settings());
        var info = (IXmlLineInfo)reader;
        string clinical = "/ODM/ClinicalData", subjectPath = "", eventPath = "", formPath = "", groupPath = "";
        string @event = "", eventRepeat = "", formRepeat = "";
        EdcSubject? subject = null;
        EdcGroup? group = null;
        var inDataset = false;
        (string Item, SourceLocation At)? typed = null;

        while (Read(reader, file))
        {
            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA && typed is { } pending && group is not null)
            {
                // ODM typed ItemData (ItemDataInteger, ItemDataString ...) carries the value as content.
                group.Values.Add(new EdcValue(pending.Item, reader.Value.Trim(), pending.At));
                typed = null;
                continue;
            }

            if (reader.NodeType == XmlNodeType.EndElement)
            {
                typed = null;
                switch (reader.LocalName)
                {
                    case "SubjectData" when subject is not null:
                        yield return subject;
                        subject = null;
                        subjectPath = "";
                        break;
                    case "StudyEventData":
                        (@event, eventRepeat) = ("", "");
                        break;
                    case "ItemGroupData" when inDataset && group is not null:
                        // Dataset-XML: one row; the subject comes from an item of the row.
                        var key = group.Values.FirstOrDefault(v => v.Item == datasetSubjectItem)?.Value;
                        if (key is null)
                        {
                            throw new ImportInputException(ImportIssue.Error($"Dataset-XML row without the subject item {datasetSubjectItem}.", group.At));
                        }

                        if (subject is not null && subject.Key != key)
                        {
                            yield return subject;
                            subject = null;
                        }

                        subject ??= new EdcSubject(key, group.At);
                        subject.Groups.Add(group);
                        group = null;
                        break;
                    case "ClinicalData" when subject is not null:
                        yield return subject;
                        subject = null;
                        break;
                }

                continue;
            }

            if (reader.NodeType != XmlNodeType.Element || reader.NamespaceURI != OdmNamespace)
            {
                continue;
            }

            switch (reader.LocalName)
            {
                case "ClinicalData":
                    clinical = $"/ODM/ClinicalData[@StudyOID='{reader.GetAttribute("StudyOID")}']";
                    break;
                case "SubjectData":
                    var subjectKey = reader.GetAttribute("SubjectKey");
                    subjectPath = $"{clinical}/SubjectData[@SubjectKey='{subjectKey}']";
                    if (string.IsNullOrWhiteSpace(subjectKey))
                    {
                        throw new ImportInputException(ImportIssue.Error("SubjectData without a SubjectKey.", new SourceLocation(file, info.LineNumber, subjectPath)));
                    }

                    subject = new EdcSubject(subjectKey, new SourceLocation(file, info.LineNumber, subjectPath));
                    break;
                case "StudyEventData":
                    @event = reader.GetAttribute("StudyEventOID") ?? "";
                    eventRepeat = reader.GetAttribute("StudyEventRepeatKey") ?? "1";
                    eventPath = $"{subjectPath}/StudyEventData[@StudyEventOID='{@event}'][@StudyEventRepeatKey='{eventRepeat}']";
                    break;
                case "FormData":
                    formRepeat = reader.GetAttribute("FormRepeatKey") ?? "1";
                    formPath = $"{eventPath}/FormData[@FormOID='{reader.GetAttribute("FormOID")}'][@FormRepeatKey='{formRepeat}']";
                    break;
                case "ItemGroupData":
                    var groupOid = reader.GetAttribute("ItemGroupOID") ?? "";
                    inDataset = subject is null || subjectPath.Length == 0;
                    var repeat = reader.GetAttribute("ItemGroupRepeatKey")
                        ?? reader.GetAttribute("ItemGroupDataSeq", "http://www.cdisc.org/ns/Dataset-XML/v1.0") ?? "1";
                    // A repeating form holds the same group once per form repeat: both keys make the repeat.
                    var fullRepeat = formRepeat is "" or "1" ? repeat : $"{formRepeat}.{repeat}";
                    groupPath = inDataset
                        ? $"{clinical}/ItemGroupData[@ItemGroupOID='{groupOid}'][{repeat}]"
                        : $"{formPath}/ItemGroupData[@ItemGroupOID='{groupOid}'][@ItemGroupRepeatKey='{repeat}']";
                    group = new EdcGroup(@event, eventRepeat, groupOid, fullRepeat, new SourceLocation(file, info.LineNumber, groupPath));
                    if (!inDataset)
                    {
                        subject!.Groups.Add(group);
                    }

                    break;
                case var name when name.StartsWith("ItemData", StringComparison.Ordinal) && group is not null:
                    var itemOid = reader.GetAttribute("ItemOID") ?? "";
                    var at = new SourceLocation(file, info.LineNumber, $"{groupPath}/{name}[@ItemOID='{itemOid}']");
                    if (reader.GetAttribute("IsNull") == "Yes" || reader.GetAttribute("TransactionType") == "Remove")
                    {
                        break;
                    }

                    if (name != "ItemData")
                    {
                        typed = reader.IsEmptyElement ? null : (itemOid, at);
                    }
                    else if (reader.GetAttribute("Value") is { Length: > 0 } value)
                    {
                        group.Values.Add(new EdcValue(itemOid, value.Trim(), at));
                    }

                    break;
            }
        }
    }

    private static bool Read(XmlReader reader, string file)
    {
        try
        {
            return reader.Read();
        }
        catch (XmlException ex)
        {
            throw new ImportInputException(ImportIssue.Error($"Malformed XML: {ex.Message}", new SourceLocation(file, ex.LineNumber, null)));
        }
    }
}
