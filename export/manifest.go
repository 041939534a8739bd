package export

import (
	"time"

	"github.com/personaldata/personaldata"
)

// FormatVersion names the layout of packages and JSON documents this
// package writes.
const FormatVersion = "personaldata-export/1"

// Manifest is the content of a package's manifest.json, also returned by
// [Exporter.WritePackage]. It holds no personal data: the subject appears
// only as a pseudonymous reference.
type Manifest struct {
	Format     string     `json:"format"` // FormatVersion
	ID         string     `json:"id"`     // the export's ULID
	Kind       Kind       `json:"kind"`
	Generated  time.Time  `json:"generated"`
	Controller Controller `json:"controller"`
	// SubjectRef is the pseudonymous reference of the subject
	// ([Exporter.SubjectRef]), never the subject's ID.
	SubjectRef string         `json:"subject_ref"`
	Categories []CategoryInfo `json:"categories"`
	// Omissions lists the categories left out and why (GDPR Art. 15(4),
	// and categories outside portability in a portability package).
	Omissions []Omission `json:"omissions"`
	// Files lists every file of the package but manifest.json and
	// checksums.sha256, in the order they were written.
	Files []File `json:"files"`
	// Rights lists the data subject's rights (GDPR Art. 15(1)(e), (f)).
	Rights []string `json:"rights"`
	// Notes explain how values are written: erased fields, the CSV view.
	Notes Notes `json:"notes"`
}

// CategoryInfo is the GDPR Art. 15(1) information about one category.
type CategoryInfo struct {
	Name        personaldata.Category `json:"name"`
	Title       string                `json:"title"`
	Description string                `json:"description,omitempty"`
	Origin      Origin                `json:"origin"`
	SourceName  string                `json:"source_name,omitempty"`
	Portable    bool                  `json:"portable"`
	Purposes    []PurposeInfo         `json:"purposes"`
	Recipients  []Recipient           `json:"recipients"`
	// AutomatedDecisions describes automated decision-making or profiling
	// with the data (GDPR Art. 15(1)(h)): "none" if there is none.
	AutomatedDecisions string `json:"automated_decisions"`
	// Retention is the statement of the retention policy; nil if the
	// exporter has no evaluator or no rule covers the category.
	Retention *RetentionInfo `json:"retention"`
	// RecordCount counts the records in the package; omitted in a JSON
	// document, where the records follow.
	RecordCount *int64 `json:"record_count,omitempty"`
	// Schema is the path of the JSON Schema of the records.
	Schema string `json:"schema,omitempty"`
}

// PurposeInfo is a purpose with its legal basis spelled out.
type PurposeInfo struct {
	ID          string                  `json:"id"`
	Description string                  `json:"description"`
	Basis       personaldata.LegalBasis `json:"basis"`
	Article     string                  `json:"article"` // such as "GDPR Art. 6(1)(b)"
}

// RetentionInfo is how long data is kept and why, from the retention policy.
type RetentionInfo struct {
	Summary    string                  `json:"summary"`
	Basis      personaldata.LegalBasis `json:"basis"`
	Citation   string                  `json:"citation,omitempty"`
	Rules      []string                `json:"rules"`
	PolicyHash string                  `json:"policy_hash"`
}

// File is one file of a package.
type File struct {
	Path      string                `json:"path"`
	MediaType string                `json:"media_type"`
	Category  personaldata.Category `json:"category,omitempty"`
	// Records counts the records (data files) or rows (CSV child tables)
	// in the file; nil for other files.
	Records *int64 `json:"records,omitempty"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"` // lower-case hex
}

// Notes explain how values are written.
type Notes struct {
	Erased string `json:"erased"`
	CSV    string `json:"csv"`
	// CSVFormulaNeutralised is true: text cells of the CSV view that start
	// with = + - @ tab or CR carry a leading apostrophe.
	CSVFormulaNeutralised bool `json:"csv_formula_neutralised"`
}

var defaultNotes = Notes{
	Erased: `A field whose data was erased (its encryption key destroyed) is written as {"erased":true} in JSON and as ` +
		ErasedCell + ` in CSV, with its column named in the row's _erased column.`,
	CSV: "The CSV files are a view for spreadsheets; the NDJSON files are exact. Text cells that start with = + - @, a tab " +
		"or a carriage return get a leading apostrophe (') so that no spreadsheet runs them as a formula. Lists are " +
		"child tables whose _row column is the parent record's _row.",
	CSVFormulaNeutralised: true,
}

func (j *job) categoryInfo(r *registration, records *int64, schema string) CategoryInfo {
	c := r.cat
	ci := CategoryInfo{Name: c.Name, Title: c.Title, Description: c.Description, Origin: c.Origin,
		SourceName: c.SourceName, Portable: c.Portable, Recipients: c.Recipients, RecordCount: records, Schema: schema,
		Purposes: make([]PurposeInfo, len(c.Purposes)), AutomatedDecisions: c.AutomatedDecisions}
	if ci.AutomatedDecisions == "" {
		ci.AutomatedDecisions = "none"
	}
	if ci.Recipients == nil {
		ci.Recipients = []Recipient{}
	}
	for i, p := range c.Purposes {
		ci.Purposes[i] = PurposeInfo{ID: p.ID, Description: p.Description, Basis: p.Basis, Article: p.Basis.Article()}
	}
	if st := r.retention; st != nil {
		ci.Retention = &RetentionInfo{Summary: st.Summary, Basis: st.Basis, Citation: st.Citation,
			Rules: append([]string{}, st.RuleIDs...), PolicyHash: st.PolicyHash.String()}
	}
	return ci
}
