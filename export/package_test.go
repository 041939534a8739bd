package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func writePackage(t *testing.T, e *export.Exporter, req export.Request) ([]byte, *export.Manifest) {
	t.Helper()
	var b bytes.Buffer
	m, err := e.WritePackage(context.Background(), &b, req)
	require.NoError(t, err)
	return b.Bytes(), m
}

// TestPackageGolden compares every file of a package with testdata/package/.
// Regenerate with go test ./export/ -run TestPackageGolden -update.
func TestPackageGolden(t *testing.T) {
	f := newFixture(t, false)
	b, _ := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	p := openPackage(t, b)
	dir := filepath.Join("testdata", "package")
	if *update {
		require.NoError(t, os.RemoveAll(dir))
		for name, data := range p.files {
			path := filepath.Join(dir, filepath.FromSlash(name))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}
	}
	var golden []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			golden = append(golden, filepath.ToSlash(rel))
		}
		return err
	}))
	assert.ElementsMatch(t, golden, p.order, "files of the package")
	for _, name := range golden {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(p.files[name]), "%s differs from the golden file (run with -update to accept)", name)
	}
}

func TestPackageDeterministic(t *testing.T) {
	f := newFixture(t, true)
	b1, _ := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	b2, _ := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	require.True(t, bytes.Equal(b1, b2), "two exports of the same data differ")
	zr, err := zip.NewReader(bytes.NewReader(b1), int64(len(b1)))
	require.NoError(t, err)
	for _, zf := range zr.File {
		require.True(t, zf.Modified.Equal(testNow), "%s: timestamp %v", zf.Name, zf.Modified)
	}
}

func TestPackageContents(t *testing.T) {
	f := newFixture(t, true)
	b, m := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	p := openPackage(t, b)
	assert.Equal(t, *m, p.manifest)
	assert.Equal(t, export.ManifestPath, p.order[len(p.order)-2], "manifest is written last but for the checksums")
	assert.Equal(t, export.ChecksumsPath, p.order[len(p.order)-1])

	// The subject appears in the manifest only by its pseudonymous reference.
	assert.NotContains(t, string(p.files[export.ManifestPath]), string(subject))
	assert.Len(t, m.SubjectRef, 32)

	var names []string
	for _, c := range m.Categories {
		names = append(names, string(c.Name))
		require.NotNil(t, c.Retention, c.Name)
		assert.NotEmpty(t, c.Retention.Summary)
	}
	assert.Equal(t, []string{"consent-events", "consent-decisions", "consent-receipts", "account", "billing"}, names)

	// Records are revealed, exact in JSON.
	recs := p.ndjson(t, "account")
	require.Len(t, recs, 2)
	assert.Equal(t, hostileScript, recs[0]["name"])
	assert.Equal(t, hostileImg, recs[0]["plan"])
	assert.Equal(t, "jan@example.nl", recs[0]["email"])
	assert.Equal(t, "1980-05-17T00:00:00Z", recs[0]["born"])
	assert.Equal(t, map[string]any{"street": "Dorpsstraat 1", "city": "Utrecht"}, recs[0]["address"])
	assert.NotContains(t, string(p.files["data/account/records.ndjson"]), "pd1:", "no ciphertext")

	// CSV: main and child tables, the parent's _row in each child row.
	main := p.csvRows(t, "data/account/records.csv")
	assert.Equal(t, []string{"_row", "id", "email", "name", "plan", "address.street", "address.city", "born", "invoices", "created", "_erased"}, main[0])
	assert.Len(t, main, 3)
	contacts := p.csvRows(t, "data/account/records.contacts.csv")
	assert.Equal(t, [][]string{{"_row", "_index", "kind", "value", "_erased"},
		{"1", "0", "work", "jan@work.example", ""},
		{"1", "1", "'" + hostileLink, "'@SUM(1+1)", ""}}, contacts)
	phones := p.csvRows(t, "data/account/records.phones.csv")
	assert.Equal(t, []string{"1", "0", "'+31 6 12345678", ""}, phones[1])

	// Consent: history with the revealed contact, decisions, receipts.
	events := p.ndjson(t, "consent-events")
	require.Len(t, events, 2)
	assert.Equal(t, "jan@example.nl", events[0]["contact"])
	assert.Nil(t, events[1]["contact"])
	decisions := p.ndjson(t, "consent-decisions")
	require.Len(t, decisions, 2)
	assert.Equal(t, false, decisions[0]["allowed"])
	assert.Equal(t, "withdrawn", decisions[0]["reason"])
	assert.Len(t, p.ndjson(t, "consent-receipts"), 1)
	assert.True(t, m.Notes.CSVFormulaNeutralised)
}

// TestHostileValuesInert checks every view of values meant to run script or
// formulas.
func TestHostileValuesInert(t *testing.T) {
	f := newFixture(t, true)
	e := f.exporter(t, nil)
	b, _ := writePackage(t, e, export.Request{Subject: subject})
	p := openPackage(t, b)

	// index.html: only the template's own tags; every value is text.
	page := string(p.files[export.IndexPath])
	allowed := map[string]bool{}
	for _, tag := range strings.Fields("!doctype html head meta title style body h1 h2 p dl dt dd ul li a code div table thead tbody tr th td span strong") {
		allowed[tag], allowed["/"+tag] = true, true
	}
	for _, m := range regexp.MustCompile(`<([!/]?[a-zA-Z0-9]+)`).FindAllStringSubmatch(page, -1) {
		assert.True(t, allowed[strings.ToLower(m[1])], "index.html has a <%s> tag", m[1])
	}
	for _, bad := range []string{"javascript:", "url(", "@import", " src=", " on"} {
		for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(page, -1) {
			assert.False(t, strings.Contains(strings.ToLower(tag), bad), "index.html: tag %q holds %q", tag, bad)
		}
	}
	assert.False(t, strings.Contains(page, "http://evil.example") && !strings.Contains(page, "HYPERLINK"), "a link outside text")
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, page, `default-src 'none'`)

	for name, data := range p.files {
		switch {
		case strings.HasSuffix(name, ".csv"):
			for _, row := range p.csvRows(t, name) {
				for _, cell := range row {
					if cell != "" {
						assert.NotContains(t, "=+-@\t\r", cell[:1], "%s: cell %q would run as a formula", name, cell)
					}
				}
			}
		case strings.HasSuffix(name, ".ndjson"), strings.HasSuffix(name, ".json"):
			assert.NotContains(t, string(data), "<script", name)
			assert.NotContains(t, string(data), "<img", name)
		}
	}

	var doc bytes.Buffer
	require.NoError(t, e.WriteJSON(context.Background(), &doc, export.Request{Subject: subject}))
	assert.NotContains(t, doc.String(), "<script")
	assert.Contains(t, doc.String(), `\u003cscript\u003e`)
}

func TestPackageErasedFields(t *testing.T) {
	f := newFixture(t, true)
	forgetDefaultScope(t, f.p, subject)
	b, _ := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	p := openPackage(t, b)
	recs := p.ndjson(t, "account")
	erased := map[string]any{"erased": true}
	assert.Equal(t, erased, recs[0]["email"])
	assert.Equal(t, erased, recs[0]["born"])
	assert.Equal(t, map[string]any{"street": erased, "city": "Utrecht"}, recs[0]["address"])
	assert.Equal(t, "pro", recs[1]["plan"])
	assert.NotContains(t, string(p.files["data/account/records.ndjson"]), "pd1:", "no ciphertext")
	// Fiscal data outlives the erasure.
	assert.Equal(t, "Jan de Vries", p.ndjson(t, "billing")[0]["name"])

	main := p.csvRows(t, "data/account/records.csv")
	assert.Equal(t, export.ErasedCell, main[1][2])
	assert.Equal(t, "email name address.street born", main[1][len(main[1])-1])
	assert.Contains(t, string(p.files[export.IndexPath]), `class="erased"`)

	events := p.ndjson(t, "consent-events")
	assert.Equal(t, erased, events[0]["contact"])
}

func TestPortabilityPackage(t *testing.T) {
	f := newFixture(t, true)
	b, m := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject, Kind: export.Portability,
		Withhold: map[personaldata.Category]string{"consent-receipts": "contains another person's data"}})
	p := openPackage(t, b)
	var names []string
	for _, c := range m.Categories {
		names = append(names, string(c.Name))
		assert.True(t, c.Portable)
	}
	assert.Equal(t, []string{"consent-events", "account"}, names)
	var omitted []string
	for _, o := range m.Omissions {
		omitted = append(omitted, string(o.Category))
		assert.NotEmpty(t, o.Reason)
	}
	assert.Equal(t, []string{"consent-decisions", "consent-receipts", "billing"}, omitted)
	assert.Equal(t, "contains another person's data", m.Omissions[1].Reason)
	for name := range p.files {
		assert.False(t, strings.HasPrefix(name, "data/billing/"), name)
	}
	assert.Contains(t, string(p.files[export.IndexPath]), "Not included")
}
