package export

import (
	"bytes"
	"fmt"
)

// readme returns README.txt of a package.
func readme(m *Manifest) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Your data held by %s\n\n", m.Controller.Name)
	fmt.Fprintf(&b, "Export %s (%s), made %s.\n\n", m.ID, m.Kind, m.Generated.Format("2006-01-02 15:04:05 MST"))
	b.WriteString(`Open index.html first: it shows your data, what it is used for, who
receives it, how long it is kept and your rights. It runs no script and
loads nothing from the internet.

Files:
  index.html                          this package as one page
  data/<category>/records.ndjson      the records, exact: one JSON object per line
  data/<category>/records.csv         the records as a table for spreadsheets
  data/<category>/records.<list>.csv  lists inside records, one row per item;
                                      _row is the _row of the record it belongs to
  schema/<category>.schema.json       JSON Schema (2020-12) of one NDJSON line
  manifest.json                       what each category is, why it is processed,
                                      who receives it, how long it is kept, and
                                      every file with its size and SHA-256
  checksums.sha256                    checksums of every other file

Erased data: a field whose data was erased (its encryption key destroyed)
is written as {"erased":true} in JSON and as [erased] in CSV, where the
row's _erased column names it.

Spreadsheets: text cells of the CSV files that begin with = + - @, a tab
or a carriage return have an apostrophe (') in front, so that no
spreadsheet runs them as a formula. The NDJSON files are unchanged.

To check that no file was damaged or changed, run in this directory:
  sha256sum -c checksums.sha256

`)
	fmt.Fprintf(&b, "Questions and requests: %s (%s).\n", m.Controller.Name, m.Controller.Contact)
	return b.Bytes()
}
