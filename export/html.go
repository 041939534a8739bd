package export

import (
	"bytes"
	"context"
	"html/template"
	"slices"
	"strconv"
)

// pageCell is one cell of a table on index.html.
type pageCell struct {
	Text   string
	Erased bool
}

type pageCategory struct {
	Info   CategoryInfo
	Header []string
	Rows   [][]pageCell
	Shown  int
	Files  []File
}

type pageData struct {
	M          *Manifest
	Categories []pageCategory
}

// rights lists the data subject's rights (GDPR Art. 15-22 and 77).
var rights = []string{
	"Access: you may ask for a copy of your data and how it is used (GDPR Art. 15). This package is such a copy.",
	"Rectification: you may have incorrect data corrected and incomplete data completed (Art. 16).",
	"Erasure: you may have your data erased, unless a law requires us to keep it (Art. 17).",
	"Restriction: you may have the processing of your data restricted (Art. 18).",
	"Portability: you may receive the data you provided in a machine-readable format, or have it sent to another organisation (Art. 20).",
	"Objection: you may object to processing based on legitimate interests, and always to direct marketing (Art. 21).",
	"Consent: where processing rests on your consent, you may withdraw it at any time, without affecting what was done before (Art. 7(3)).",
	"Complaint: you may lodge a complaint with a supervisory authority (Art. 77).",
}

// page renders index.html. It reads each category again, up to
// Options.PageRows records; the data files hold them all.
func (j *job) page(ctx context.Context, m *Manifest, plans []*plan) ([]byte, error) {
	d := pageData{M: m}
	for i, r := range j.include {
		pc := pageCategory{Info: m.Categories[i]}
		for _, f := range m.Files {
			if f.Category == r.cat.Name {
				pc.Files = append(pc.Files, f)
			}
		}
		p := plans[i]
		var c *csvWriter
		var mapCols []string
		switch {
		case p == nil:
		case p.st != nil:
			t := &csvTable{cols: leafColumns(p.st, "", nil), hasPII: p.st.hasPII}
			c = &csvWriter{t: t}
			pc.Header = append(pc.Header, "#")
			for _, col := range t.cols {
				pc.Header = append(pc.Header, col.name)
			}
		default:
			c = &csvWriter{}
			mapCols = j.mapKeys[r.cat.Name]
			pc.Header = append([]string{"#"}, mapCols...)
		}
		if c != nil {
			c.out = func(row []string) error {
				cells := make([]pageCell, len(pc.Header))
				for k := range cells {
					cells[k].Text = row[k]
					cells[k].Erased = k > 0 && slices.Contains(c.erased, pc.Header[k])
				}
				pc.Rows = append(pc.Rows, cells)
				return nil
			}
			_, err := j.each(ctx, r, int64(j.e.opts.PageRows), func(n int64, it *item) error {
				if it.p.st == nil {
					return c.mapRow(n, it, mapCols)
				}
				return c.write(n, it)
			})
			if err != nil {
				return nil, err
			}
		}
		pc.Shown = len(pc.Rows)
		d.Categories = append(d.Categories, pc)
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var pageTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"itoa": func(n int64) string { return strconv.FormatInt(n, 10) },
	"records": func(n int64) string {
		if n == 1 {
			return "1 record"
		}
		return strconv.FormatInt(n, 10) + " records"
	},
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>Your data held by {{.M.Controller.Name}}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:1rem;max-width:60rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2.5rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere}
th{background:#f2f2f2}.erased{font-style:italic;color:#8a1c1c}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
@media (max-width:40rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}
code{overflow-wrap:anywhere}
</style>
</head>
<body>
<h1>Your data held by {{.M.Controller.Name}}</h1>
<p>This is a copy of the personal data {{.M.Controller.Name}} holds about you ({{if eq .M.Kind.String "portability"}}a portability package: the data you provided or that was observed, in machine-readable form{{else}}an access package{{end}}), with what each kind of data is used for, who receives it and how long it is kept.</p>
<dl>
<dt>Export</dt><dd><code>{{.M.ID}}</code>, made {{.M.Generated.Format "2 January 2006 15:04 MST"}}</dd>
<dt>Your reference</dt><dd><code>{{.M.SubjectRef}}</code></dd>
<dt>Controller</dt><dd>{{.M.Controller.Name}}{{with .M.Controller.Address}}, {{.}}{{end}}</dd>
<dt>Contact</dt><dd>{{.M.Controller.Contact}}</dd>
{{- with .M.Controller.DPO}}
<dt>Data protection officer</dt><dd>{{.}}</dd>
{{- end}}
</dl>
<h2>Contents</h2>
<ul>
{{- range .Categories}}
<li><a href="#cat-{{.Info.Name}}">{{.Info.Title}}</a>: {{records (deref .Info.RecordCount)}}</li>
{{- end}}
</ul>
{{- if .M.Omissions}}
<h2>Not included</h2>
<ul>
{{- range .M.Omissions}}
<li><strong>{{.Category}}</strong>: {{.Reason}}</li>
{{- end}}
</ul>
{{- end}}
{{- range .Categories}}
<h2 id="cat-{{.Info.Name}}">{{.Info.Title}}</h2>
{{- with .Info.Description}}
<p>{{.}}</p>
{{- end}}
<dl>
<dt>Source</dt><dd>{{if eq .Info.Origin.String "provided"}}provided by you{{else if eq .Info.Origin.String "observed"}}observed while you used the service{{else if eq .Info.Origin.String "derived"}}derived by us from other data{{else}}received from {{.Info.SourceName}}{{end}}</dd>
<dt>Used for</dt><dd><ul>{{range .Info.Purposes}}<li>{{.Description}} (legal basis: {{.Basis.String}}, {{.Article}})</li>{{end}}</ul></dd>
<dt>Recipients</dt><dd>{{if .Info.Recipients}}<ul>{{range .Info.Recipients}}<li>{{.Name}}{{with .Role}} ({{.}}){{end}}{{with .Country}}, {{.}}{{end}}{{with .Safeguards}}; safeguards: {{.}}{{end}}</li>{{end}}</ul>{{else}}nobody outside {{$.M.Controller.Name}}{{end}}</dd>
<dt>Kept</dt><dd>{{with .Info.Retention}}{{.Summary}}{{else}}see the privacy statement of {{$.M.Controller.Name}}{{end}}</dd>
<dt>Automated decisions</dt><dd>{{.Info.AutomatedDecisions}}</dd>
<dt>Portable</dt><dd>{{if .Info.Portable}}yes{{else}}no{{end}}</dd>
<dt>Files</dt><dd>{{range .Files}}<code>{{.Path}}</code> {{end}}</dd>
</dl>
{{- if .Rows}}
{{- if lt .Shown (deref .Info.RecordCount)}}
<p>The first {{.Shown}} of {{itoa (deref .Info.RecordCount)}} records are shown; the files hold them all.</p>
{{- end}}
<div class="scroll"><table>
<thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td{{if .Erased}} class="erased"{{end}}>{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
{{- else}}
<p>No records.</p>
{{- end}}
{{- end}}
<h2>Your rights</h2>
<ul>
{{- range .M.Rights}}
<li>{{.}}</li>
{{- end}}
</ul>
<p>To use them, contact {{.M.Controller.Name}}: {{.M.Controller.Contact}}.{{with .M.Controller.Authority}} Supervisory authority: {{.}}.{{end}}</p>
<p>Fields shown as <span class="erased">[erased]</span> held data that was erased: its encryption key was destroyed. The file <code>README.txt</code> explains the other files; <code>manifest.json</code> lists them with their checksums.</p>
</body>
</html>
`
