using System.Globalization;
using System.Text;
using System.Xml;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>
/// A deterministic synthetic EPC-CLI EDC export with the item OIDs of trials/epc-cli/mapping.json: subjects in both
/// arms, every protocol visit, adverse events of every CTCAE grade, some subjects withdrawn after month 3, and an
/// identifying item (initials) the import must drop. Written as CDISC ODM 1.3 or as a REDCap longitudinal export
/// (dictionary and flat data, events and instruments named like the ODM's), one subject at a time, so a 10,000-subject
/// file is streamed, not held. <see cref="Overrides"/> changes single values (subject, event, item) to build updated
/// or broken exports. The benchmark program compiles this file too (linked), so tests and figures use one generator.
/// </summary>
internal sealed class EpcCliExportGenerator(int subjects = 27)
{
    public static readonly string[] Visits = ["SE.SCREENING", "SE.BASELINE", "SE.M1", "SE.M3", "SE.M6", "SE.M12"];
    private static readonly int[] VisitDays = [-14, 0, 30, 91, 182, 365];

    private static readonly string[] VisitItems =
    [
        "IT.VISDAT", "IT.ARM", "IT.SEX", "IT.BRTHYR", "IT.INITIALS", "IT.WAGNER", "IT.RANDDAT", "IT.INFDAT", "IT.RUTH", "IT.ULCAREA", "IT.PWD",
        "IT.ICD", "IT.ABI_R", "IT.ABI_L", "IT.TBI_R", "IT.TCPO2_R", "IT.VQ6",
    ];

    private static readonly string[] AeItems = ["IT.AESEQ", "IT.AETERM", "IT.AETERMCD", "IT.AESTDAT", "IT.AEGRADE", "IT.AESER", "IT.AEOUT", "IT.AEREL"];
    private static readonly string[] EndItems = ["IT.DSSTAT", "IT.DSDAT"];

    public Dictionary<(string Subject, string Event, string Item), string?> Overrides { get; } = [];

    /// <summary>Extra raw ItemData (subject, event, item, value) appended to the event's first group.</summary>
    public List<(string Subject, string Event, string Item, string Value)> Extra { get; } = [];

    public static string Key(int index) => $"P{index:D3}";

    public static bool IsWithdrawn(int index) => index % 9 == 5;

    public static int Grade(int aeNumber) => aeNumber % 5 + 1;

    /// <summary>One study event of a subject: its item group and the group's repeats (item, value).</summary>
    private sealed record EventData(string Event, string Group, List<List<(string Item, string Value)>> Repeats);

    public void Write(string path)
    {
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Indent = true });
        Write(writer);
    }

    public void Write(XmlWriter xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        const string ns = "http://www.cdisc.org/ns/odm/v1.3";
        xml.WriteStartElement("ODM", ns);
        xml.WriteAttributeString("FileType", "Snapshot");
        xml.WriteAttributeString("ODMVersion", "1.3.2");
        xml.WriteAttributeString("FileOID", "EPC-CLI-SYNTHETIC");
        xml.WriteAttributeString("CreationDateTime", "2025-01-15T10:00:00");
        xml.WriteStartElement("ClinicalData", ns);
        xml.WriteAttributeString("StudyOID", "EPC-CLI");
        xml.WriteAttributeString("MetaDataVersionOID", "v1");
        foreach (var (key, events) in Subjects())
        {
            xml.WriteStartElement("SubjectData", ns);
            xml.WriteAttributeString("SubjectKey", key);
            foreach (var data in events)
            {
                WriteEvent(xml, ns, data);
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    /// <summary>
    /// The same data as a REDCap longitudinal export: a data dictionary (forms IG.VISIT, IG.AE, IG.EOS) and a flat
    /// CSV with one row per subject and event, the adverse events as the repeating instrument IG.AE.
    /// </summary>
    public void WriteRedcap(string dictionaryPath, string dataPath)
    {
        using (var dictionary = new StreamWriter(dictionaryPath, false, Encoding.UTF8))
        {
            dictionary.WriteLine("\"Variable / Field Name\",\"Form Name\",\"Field Type\",\"Text Validation Type OR Show Slider Number\",Identifier?");
            dictionary.WriteLine("record_id,IG.VISIT,text,,");
            foreach (var (items, form) in new[] { (VisitItems, "IG.VISIT"), (AeItems, "IG.AE"), (EndItems, "IG.EOS") })
            {
                foreach (var item in items)
                {
                    dictionary.WriteLine($"{item},{form},text,,{(item == "IT.INITIALS" ? "y" : "")}");
                }
            }
        }

        string[] columns = [.. VisitItems, .. AeItems, .. EndItems];
        var index = columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        using var data = new StreamWriter(dataPath, false, Encoding.UTF8);
        data.WriteLine("record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance," + string.Join(',', columns));
        var row = new string[columns.Length];
        foreach (var (key, events) in Subjects())
        {
            foreach (var (@event, group, repeats) in events)
            {
                var repeating = group == "IG.AE";
                for (var r = 0; r < repeats.Count; r++)
                {
                    Array.Fill(row, "");
                    foreach (var (item, value) in repeats[r])
                    {
                        row[index[item]] = value.Contains(',', StringComparison.Ordinal) ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
                    }

                    data.WriteLine($"{key},{@event},{(repeating ? group : "")},{(repeating ? (r + 1).ToString(CultureInfo.InvariantCulture) : "")},{string.Join(',', row)}");
                }
            }
        }
    }

    /// <summary>Each subject's events, made one subject at a time (with the overrides and extra items applied).</summary>
    private IEnumerable<(string Key, List<EventData> Events)> Subjects()
    {
        var aeNumber = 0;
        for (var i = 1; i <= subjects; i++)
        {
            var random = new Random(i);
            var key = Key(i);
            var start = new DateOnly(2024, 5, 6).AddDays(i * 7 % 180);
            var iv = i % 2 == 1;
            var withdrawn = IsWithdrawn(i);
            var events = new List<EventData>();
            for (var v = 0; v < Visits.Length; v++)
            {
                if (withdrawn && v > 3)
                {
                    break;
                }

                var date = start.AddDays(VisitDays[v]);
                var items = new List<(string, string)> { ("IT.VISDAT", Iso(date)) };
                if (v == 0)
                {
                    items.AddRange([("IT.ARM", iv ? "1" : "2"), ("IT.SEX", i % 3 == 0 ? "F" : "M"), ("IT.BRTHYR", (1940 + i % 60).ToString(CultureInfo.InvariantCulture)),
                        ("IT.INITIALS", "XX"), ("IT.WAGNER", (1 + i % 4).ToString(CultureInfo.InvariantCulture))]);
                }

                if (v == 1)
                {
                    items.Add(("IT.RANDDAT", Iso(date)));
                    if (iv)
                    {
                        items.Add(("IT.INFDAT", Iso(date)));
                    }
                }

                var improvement = v <= 1 ? 0 : v;
                items.Add(("IT.RUTH", Math.Clamp(5 - improvement / 2 - i % 2, 0, 6).ToString(CultureInfo.InvariantCulture)));
                if (v >= 1)
                {
                    items.AddRange([
                        ("IT.ULCAREA", Dec(Math.Max(0, 6.5 - improvement * 0.8 + random.NextDouble()))),
                        ("IT.PWD", (40 + improvement * 15 + random.Next(10)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.ICD", (80 + improvement * 20 + random.Next(10)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.ABI_R", Dec(0.4 + random.NextDouble() * 0.2)), ("IT.ABI_L", Dec(0.6 + random.NextDouble() * 0.2)),
                        ("IT.TBI_R", Dec(0.2 + random.NextDouble() * 0.1)),
                        ("IT.TCPO2_R", (20 + random.Next(20)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.VQ6", (10 + improvement + random.Next(3)).ToString(CultureInfo.InvariantCulture)),
                    ]);
                }

                events.Add(new EventData(Visits[v], "IG.VISIT", [items]));
            }

            // Adverse events: 0-2 per subject, grades cycling 1..5 over the study, so every grade occurs.
            var aes = new List<List<(string, string)>>();
            for (var a = 0; a < i % 3; a++)
            {
                var grade = Grade(aeNumber++);
                var ae = new List<(string, string)>
                {
                    ("IT.AESEQ", (a + 1).ToString(CultureInfo.InvariantCulture)),
                    ("IT.AETERM", grade >= 4 ? "Peripheral ischemia" : "Pain in extremity"),
                    ("IT.AETERMCD", grade >= 4 ? "C143749" : "C143723"),
                    ("IT.AESTDAT", Iso(start.AddDays(10 + a * 20))),
                    ("IT.AEGRADE", grade.ToString(CultureInfo.InvariantCulture)),
                    ("IT.AESER", grade >= 3 ? "Y" : "N"),
                    ("IT.AEOUT", grade == 5 ? "FATAL" : grade == 4 ? "RECOVERING" : "RECOVERED"),
                };
                if (iv)
                {
                    ae.Add(("IT.AEREL", (1 + a % 5).ToString(CultureInfo.InvariantCulture)));
                }

                aes.Add(ae);
            }

            if (aes.Count > 0)
            {
                events.Add(new EventData("SE.AELOG", "IG.AE", aes));
            }

            var end = withdrawn ? start.AddDays(120) : start.AddDays(366);
            events.Add(new EventData("SE.EOS", "IG.EOS", [[("IT.DSSTAT", withdrawn ? "WITHDRAWN" : "COMPLETED"), ("IT.DSDAT", Iso(end))]]));
            yield return (key, [.. events.Select(e => Apply(key, e))]);
        }
    }

    private EventData Apply(string subject, EventData data)
    {
        var repeats = new List<List<(string Item, string Value)>>();
        for (var g = 0; g < data.Repeats.Count; g++)
        {
            var items = data.Repeats[g].ToList();
            if (g == 0)
            {
                items.AddRange(Extra.Where(e => e.Subject == subject && e.Event == data.Event).Select(e => (e.Item, e.Value)));
            }

            var kept = new List<(string Item, string Value)>();
            foreach (var (item, original) in items)
            {
                var value = Overrides.TryGetValue((subject, data.Event, item), out var changed) ? changed : original;
                if (value is not null)
                {
                    kept.Add((item, value)); // an override of null removes the item
                }
            }

            repeats.Add(kept);
        }

        return data with { Repeats = repeats };
    }

    private static void WriteEvent(XmlWriter xml, string ns, EventData data)
    {
        xml.WriteStartElement("StudyEventData", ns);
        xml.WriteAttributeString("StudyEventOID", data.Event);
        xml.WriteAttributeString("StudyEventRepeatKey", "1");
        xml.WriteStartElement("FormData", ns);
        xml.WriteAttributeString("FormOID", "F." + data.Group[3..]);
        for (var g = 0; g < data.Repeats.Count; g++)
        {
            xml.WriteStartElement("ItemGroupData", ns);
            xml.WriteAttributeString("ItemGroupOID", data.Group);
            xml.WriteAttributeString("ItemGroupRepeatKey", (g + 1).ToString(CultureInfo.InvariantCulture));
            foreach (var (item, value) in data.Repeats[g])
            {
                xml.WriteStartElement("ItemData", ns);
                xml.WriteAttributeString("ItemOID", item);
                xml.WriteAttributeString("Value", value);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Dec(double value) => Math.Round(value, 2).ToString("0.00", CultureInfo.InvariantCulture);
}
